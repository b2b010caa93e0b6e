//! {{name}}: {{summary}}

/// The text printed for `name`.
pub fn greeting(name: &str) -> String {
    format!("Hello, {name}!")
}

#[cfg(test)]
mod tests {
    use super::greeting;

    #[test]
    fn greeting_names_the_person() {
        assert_eq!(greeting("Ada"), "Hello, Ada!");
    }
}
