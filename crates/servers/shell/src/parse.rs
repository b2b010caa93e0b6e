//! The shell-string form, when configuration allows it: a deliberately small
//! language parsed here and executed by this server, never by a shell.
//!
//! Accepted: words (plain, 'single-quoted', "double-quoted" with `\"` and
//! `\\` escapes, backslash-escaped characters), pipelines with `|`, and
//! sequences with `&&`, `||` and `;`. Everything else a shell would interpret
//! is refused with the reason: expansions (`$`, backticks), redirections,
//! subshells and groups, background jobs, globs, `~`, comments, assignments,
//! and line breaks. Because the parse result is executed directly, there is no
//! second interpreter whose reading could differ from this one.

pub use mcp_core::jobs::Join;

/// A pipeline: commands connected by `|`, each an argv.
pub type Pipeline = Vec<Vec<String>>;

/// A parsed command line: pipelines and how each joins the next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Script {
    /// `(pipeline, join to the next)`; the last join is ignored.
    pub steps: Vec<(Pipeline, Join)>,
}

fn refuse(what: &str) -> String {
    format!(
        "shell syntax {what} is not supported: this server runs commands itself, without a shell. Use plain words, \
         quotes, `|`, `&&`, `||` and `;` only, and pass environment variables through the env argument"
    )
}

#[derive(Debug, PartialEq)]
enum Tok {
    Word(String),
    Pipe,
    And,
    Or,
    Semi,
}

fn tokenize(s: &str) -> Result<Vec<Tok>, String> {
    let mut toks = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut chars = s.chars().peekable();
    let push = |toks: &mut Vec<Tok>, cur: &mut String, in_word: &mut bool| {
        if *in_word {
            toks.push(Tok::Word(std::mem::take(cur)));
            *in_word = false;
        }
    };
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' => push(&mut toks, &mut cur, &mut in_word),
            '\n' | '\r' => return Err(refuse("a line break")),
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some('\n') | Some('\r') => return Err(refuse("a line break")),
                        Some('\0') => return Err(refuse("a NUL byte")),
                        Some(x) => cur.push(x),
                        None => return Err("unterminated single quote".into()),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(x @ ('"' | '\\')) => cur.push(x),
                            Some(x) => {
                                cur.push('\\');
                                cur.push(x);
                            }
                            None => return Err("unterminated double quote".into()),
                        },
                        Some('$') => return Err(refuse("`$` (expansion, even inside double quotes)")),
                        Some('`') => return Err(refuse("a backtick")),
                        Some('\n') | Some('\r') => return Err(refuse("a line break")),
                        Some('\0') => return Err(refuse("a NUL byte")),
                        Some(x) => cur.push(x),
                        None => return Err("unterminated double quote".into()),
                    }
                }
            }
            '\\' => match chars.next() {
                Some('\n') | Some('\r') | None => return Err(refuse("a trailing backslash or line continuation")),
                Some(x) => {
                    in_word = true;
                    cur.push(x);
                }
            },
            '|' => {
                push(&mut toks, &mut cur, &mut in_word);
                if chars.peek() == Some(&'|') {
                    chars.next();
                    toks.push(Tok::Or);
                } else if chars.peek() == Some(&'&') {
                    return Err(refuse("`|&`"));
                } else {
                    toks.push(Tok::Pipe);
                }
            }
            '&' => {
                push(&mut toks, &mut cur, &mut in_word);
                if chars.peek() == Some(&'&') {
                    chars.next();
                    toks.push(Tok::And);
                } else {
                    return Err(refuse("`&` (background jobs)"));
                }
            }
            ';' => {
                push(&mut toks, &mut cur, &mut in_word);
                toks.push(Tok::Semi);
            }
            '$' => return Err(refuse("`$` (variables and command substitution)")),
            '`' => return Err(refuse("a backtick (command substitution)")),
            '<' | '>' => return Err(refuse("redirection (`<`, `>`)")),
            '(' | ')' => return Err(refuse("subshells (`(`, `)`)")),
            '{' | '}' => return Err(refuse("groups and brace expansion (`{`, `}`)")),
            '*' | '?' | '[' | ']' => {
                return Err(refuse("glob characters (`*`, `?`, `[`); quote them to pass them literally"));
            }
            '~' if !in_word => return Err(refuse("`~` (home directory expansion)")),
            '#' if !in_word => return Err(refuse("comments (`#`)")),
            '!' => return Err(refuse("`!` (history and negation)")),
            '\0' => return Err(refuse("a NUL byte")),
            x => {
                in_word = true;
                cur.push(x);
            }
        }
    }
    push(&mut toks, &mut cur, &mut in_word);
    Ok(toks)
}

/// Parse a command line.
pub fn parse(s: &str) -> Result<Script, String> {
    let toks = tokenize(s)?;
    let mut steps = Vec::new();
    let mut pipeline: Pipeline = Vec::new();
    let mut argv: Vec<String> = Vec::new();
    let finish_cmd = |pipeline: &mut Pipeline, argv: &mut Vec<String>| -> Result<(), String> {
        if argv.is_empty() {
            return Err("an operator has no command on one side".into());
        }
        if let Some(first) = argv.first()
            && first.contains('=')
            && first
                .split('=')
                .next()
                .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'))
        {
            return Err(refuse("variable assignments before a command (`X=1 cmd`)"));
        }
        pipeline.push(std::mem::take(argv));
        Ok(())
    };
    let mut dangling_pipe = false;
    for t in toks {
        dangling_pipe = matches!(t, Tok::Pipe);
        match t {
            Tok::Word(w) => argv.push(w),
            Tok::Pipe => finish_cmd(&mut pipeline, &mut argv)?,
            Tok::And | Tok::Or | Tok::Semi => {
                finish_cmd(&mut pipeline, &mut argv)?;
                let join = match t {
                    Tok::And => Join::And,
                    Tok::Or => Join::Or,
                    _ => Join::Then,
                };
                steps.push((std::mem::take(&mut pipeline), join));
            }
        }
    }
    if dangling_pipe {
        return Err("the command line ends with `|`".into());
    }
    if !argv.is_empty() {
        finish_cmd(&mut pipeline, &mut argv)?;
    }
    if !pipeline.is_empty() {
        steps.push((pipeline, Join::Then));
    } else if steps.last().is_some_and(|(_, j)| *j != Join::Then) {
        return Err("the command line ends with an operator".into());
    }
    if steps.is_empty() {
        return Err("the command line is empty".into());
    }
    if steps.len() > 32 || steps.iter().map(|(p, _)| p.len()).sum::<usize>() > 64 {
        return Err("the command line has too many commands (at most 32 steps and 64 commands)".into());
    }
    Ok(Script { steps })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<Vec<Vec<String>>> {
        parse(s).unwrap().steps.into_iter().map(|(p, _)| p).collect()
    }

    #[test]
    fn accepted_forms() {
        assert_eq!(words("echo hi"), vec![vec![vec!["echo", "hi"]]]);
        assert_eq!(words("echo 'a b' \"c d\" e\\ f"), vec![vec![vec!["echo", "a b", "c d", "e f"]]]);
        assert_eq!(words("ls | wc -l"), vec![vec![vec!["ls"], vec!["wc", "-l"]]]);
        let s = parse("make && make test || echo failed; echo done").unwrap();
        let joins: Vec<Join> = s.steps.iter().map(|(_, j)| *j).collect();
        assert_eq!(joins, [Join::And, Join::Or, Join::Then, Join::Then]);
        assert_eq!(words("echo '*' \"a=b\""), vec![vec![vec!["echo", "*", "a=b"]]]);
    }

    #[test]
    fn refused_forms() {
        for bad in [
            "echo $(id)",
            "echo `id`",
            "echo $HOME",
            "echo \"$HOME\"",
            "cat < /etc/passwd",
            "ls > x",
            "(ls)",
            "{ ls; }",
            "sleep 1 &",
            "ls *.py",
            "ls ~",
            "echo a # c",
            "X=1 ls",
            "echo a\nls",
            "cat <(ls)",
            "ls |& wc",
            "!ls",
            "ls |",
            "&& ls",
            "",
            "echo 'unterminated",
            "ls\\\n",
        ] {
            assert!(parse(bad).is_err(), "{bad:?} was accepted: {:?}", parse(bad));
        }
    }
}
