#!/bin/sh
# collect.sh [--libs-only] DEST PATH...
#
# Copies each PATH (file, symlink or directory) into the root filesystem DEST
# at the same place, together with every shared library an ELF file among
# them loads (as `ldd` resolves it), so DEST holds what those programs need to
# run on an otherwise empty image (`FROM scratch`). With --libs-only, only the
# libraries are copied (the programs go into images of their own).
#
# DEST gets Debian's merged-/usr layout (/bin, /lib, /lib64 and /sbin are
# symlinks into /usr), and each library is copied as a regular file under the
# name the loader asks for, so symlink chains in the builder do not matter.
# A library `ldd` cannot find fails the build: an image that would die at its
# first start is worse than no image. A PATH that is a symlink is copied as a
# symlink (its libraries are collected through it): name its target too.
# Used by the `rootfs` stage of docker/Dockerfile, inside the base image, so
# the libraries are the image's Debian ones, not the build host's.
set -eu

libs_only=no
if [ "${1:-}" = "--libs-only" ]; then
    libs_only=yes
    shift
fi
dest=$1
shift

mkdir -p "$dest/usr/bin" "$dest/usr/sbin" "$dest/usr/lib" "$dest/usr/lib64"
for l in bin sbin lib lib64; do
    [ -e "$dest/$l" ] || [ -L "$dest/$l" ] || ln -s "usr/$l" "$dest/$l"
done

# put SRC DIR NAME: copy the content SRC resolves to, as DEST/DIR/NAME, where
# DIR is the canonical directory (so /lib/x86_64-linux-gnu and
# /usr/lib/x86_64-linux-gnu are the same place).
put() {
    dir=$(readlink -f "$2")
    mkdir -p "$dest$dir"
    [ -e "$dest$dir/$3" ] || cp -L "$1" "$dest$dir/$3"
}

libs_of() {
    out=$(ldd "$1" 2>&1) || return 0 # not a dynamic executable
    if printf '%s\n' "$out" | grep -q 'not found'; then
        echo "collect.sh: $1 needs a library this image does not have:" >&2
        printf '%s\n' "$out" >&2
        exit 1
    fi
    printf '%s\n' "$out" | sed -n -e 's/.*=> \(\/[^ ]*\) .*/\1/p' -e 's/^[[:space:]]*\(\/[^ ]*\) .*/\1/p'
}

is_elf() {
    [ -f "$1" ] && [ "$(head -c 4 "$1" | od -An -c | tr -d ' \n')" = '177ELF' ]
}

for p in "$@"; do
    if [ "$libs_only" = no ]; then
        parent=$(readlink -f "$(dirname "$p")")
        mkdir -p "$dest$parent"
        cp -a "$p" "$dest$parent/"
    fi
    if [ -d "$p" ] && [ ! -L "$p" ]; then
        files=$(find "$p" -type f)
    else
        files=$p
    fi
    for f in $files; do
        is_elf "$f" || continue
        # An assignment, so a failing ldd check stops the script (set -e).
        libs=$(libs_of "$f")
        for lib in $libs; do
            put "$lib" "$(dirname "$lib")" "$(basename "$lib")"
        done
    done
done
