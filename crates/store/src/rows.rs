//! SQL helpers both backends share: placeholder and value lists, literal limits, anonymous
//! parameters for SQLite.

/// `$first, $first+1, …` placeholders for an IN list of `n` values.
pub(crate) fn placeholders(first: usize, n: usize) -> String {
    (first..first + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `LIMIT n` as a literal. SQLite (3.51) marks a statement whose LIMIT is a bound
/// parameter to be re-prepared whenever that parameter is bound again, i.e. on every
/// execution (measured: ~10 % of an incident list's CPU); a literal keeps the cached plan.
/// Page sizes are few, so the statement cache holds one statement per size.
pub(crate) fn limit(n: i64) -> String {
    format!("LIMIT {n}")
}

/// `($1, $2), ($3, $4), …`: the VALUES lists of a multi-row insert of `rows` rows with
/// `per` columns each.
pub(crate) fn value_lists(rows: usize, per: usize) -> String {
    value_lists_from(1, rows, per)
}

/// `sql` with its parameters written `?` instead of `$1, $2, …, $n`, when each of those
/// occurs once and in that order (outside quoted literals), which keeps their meaning;
/// otherwise `sql` unchanged. For SQLite: sqlx asks SQLite for the name of every
/// parameter it binds, and SQLite finds a numbered parameter's name by walking the list of
/// all of them, so binding a multi-row statement of n parameters costs O(n²).
/// Anonymous parameters have no name to find.
pub(crate) fn anonymous_params(sql: String) -> String {
    let b = sql.as_bytes();
    let mut out = String::with_capacity(sql.len());
    let (mut expect, mut last, mut i) = (1usize, 0usize, 0usize);
    let mut quoted = false;
    while i < b.len() {
        match b[i] {
            b'\'' => quoted = !quoted,
            b'$' if !quoted && b.get(i + 1).is_some_and(u8::is_ascii_digit) => {
                let mut j = i + 1;
                while b.get(j).is_some_and(u8::is_ascii_digit) {
                    j += 1;
                }
                if sql[i + 1..j].parse::<usize>().ok() != Some(expect) {
                    return sql;
                }
                expect += 1;
                out.push_str(&sql[last..i]);
                out.push('?');
                last = j;
                i = j;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    out.push_str(&sql[last..]);
    out
}

/// [`value_lists`] numbering its parameters from `$first`.
pub(crate) fn value_lists_from(first: usize, rows: usize, per: usize) -> String {
    (0..rows)
        .map(|k| format!("({})", placeholders(first + k * per, per)))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::anonymous_params as anon;

    #[test]
    fn numbered_parameters_in_order_become_anonymous() {
        assert_eq!(
            anon(format!(
                "INSERT INTO t (a, b) VALUES {}",
                super::value_lists(2, 2)
            )),
            "INSERT INTO t (a, b) VALUES (?, ?), (?, ?)"
        );
        assert_eq!(
            anon("SELECT '$2' FROM t WHERE a = $1 AND b = $2 AND c = 'it''s $9'".into()),
            "SELECT '$2' FROM t WHERE a = ? AND b = ? AND c = 'it''s $9'"
        );
        assert_eq!(anon("SELECT 1".into()), "SELECT 1");
    }

    #[test]
    fn anything_else_is_left_as_it_is() {
        for sql in [
            "SELECT $2, $1",
            "SELECT $1 WHERE x = $1",
            "SELECT $1, $3",
            "INSERT INTO t SELECT $2 WHERE a = $1",
        ] {
            assert_eq!(anon(sql.into()), sql);
        }
    }
}
