//! A JSON reader that accepts, rejects and words its errors exactly like
//! stout's `JSON::parse` (Mesos 1.11.0), which is picojson 1.3.0 with
//! 64-bit integers enabled and a nesting limit of 200.
//!
//! serde_json cannot stand in for it: picojson accepts things strict JSON
//! does not (leading zeros `007`, `1.`, `-.5`, raw control bytes >= 0x20 are
//! fine but so is any non-ASCII byte), rejects what serde_json accepts (more
//! than 200 nested containers), treats duplicate keys as "last wins", turns
//! an infinite number (`1e400`) into "Value out of range", and reports errors
//! as `syntax error at line N near: <rest of that line>`. The command-line
//! tool must give the verdict and the message the agent would log, so this
//! reader follows the picojson algorithm step by step, including its
//! one-character push-back and its line counting, which decide the text of
//! the error. It is written from the algorithm, not copied.
//!
//! Recursion is bounded by [`MAX_DEPTH`] (stout's limit), so hostile nesting
//! cannot exhaust the stack: the 201st nested `[` or `{` is a syntax error.

use serde_json::{Map, Number, Value};

/// stout's `STOUT_JSON_MAX_DEPTH`: the most arrays/objects that may be open
/// at once.
pub(crate) const MAX_DEPTH: usize = 200;

/// Why stout's `JSON::parse` would fail, with its exact message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct JsonError {
    /// stout's message, e.g. `syntax error at line 1 near: x`.
    pub message: String,
    /// Byte offset in the input the error refers to (for line/column).
    pub offset: usize,
}

/// Parses `text` as stout's `JSON::parse(const std::string&)` does.
pub(crate) fn parse(text: &[u8]) -> Result<Value, JsonError> {
    let mut input = Input::new(text);
    match parse_value(&mut input, MAX_DEPTH) {
        Ok(value) => {
            // picojson stops after one value; stout then requires that it
            // ended right after the last non-whitespace character. The end
            // is picojson's cursor, which is one past a pushed-back
            // character: that quirk decides the reported trailing text.
            let end = input.cur;
            let visible_end = text.iter().rposition(|&b| !is_ws(b)).map_or(0, |p| p + 1);
            if end == visible_end {
                Ok(value)
            } else {
                // `substr(end, visible_end - end)` with unsigned arithmetic:
                // when `end` is past `visible_end` the count wraps around and
                // the rest of the input is taken.
                let trailing = if end <= visible_end {
                    &text[end..visible_end]
                } else {
                    &text[end..]
                };
                Err(JsonError {
                    message: format!(
                        "Parsed JSON included non-whitespace trailing characters: {}",
                        String::from_utf8_lossy(trailing)
                    ),
                    offset: end,
                })
            }
        }
        Err(Fail::OutOfRange { offset }) => Err(JsonError {
            message: "Value out of range".to_owned(),
            offset,
        }),
        Err(Fail::Syntax) => {
            let line = input.line;
            // Where the next read would start: the pushed-back character if
            // there is one. A newline that was read but not yet counted by
            // picojson (it counts a newline when reading the character after
            // it) is reported as the position, so our line agrees with its.
            let offset = if input.ungot {
                input.cur.saturating_sub(1)
            } else if input.cur > 0 && text.get(input.cur - 1) == Some(&b'\n') {
                input.cur - 1
            } else {
                input.cur
            };
            // picojson appends the rest of the line, dropping control bytes.
            let mut near = Vec::new();
            loop {
                match input.getc() {
                    None | Some(b'\n') => break,
                    Some(b) if b >= b' ' => near.push(b),
                    Some(_) => {}
                }
            }
            Err(JsonError {
                message: format!(
                    "syntax error at line {line} near: {}",
                    String::from_utf8_lossy(&near)
                ),
                offset,
            })
        }
    }
}

/// picojson's whitespace (also stout's `strings::WHITESPACE`).
fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

/// How a parse failed: picojson returns `false` for syntax errors and
/// throws (caught by stout) for infinite numbers, which aborts at once.
enum Fail {
    Syntax,
    OutOfRange { offset: usize },
}

/// picojson's `input<Iter>`: a byte cursor with a one-character push-back
/// and a line counter that is bumped when the byte *after* a newline is read.
struct Input<'a> {
    bytes: &'a [u8],
    cur: usize,
    /// The last byte read, `None` after reading past the end.
    last: Option<u8>,
    ungot: bool,
    line: usize,
}

impl<'a> Input<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Input {
            bytes,
            cur: 0,
            last: None,
            ungot: false,
            line: 1,
        }
    }

    fn getc(&mut self) -> Option<u8> {
        if self.ungot {
            self.ungot = false;
            return self.last;
        }
        let Some(&b) = self.bytes.get(self.cur) else {
            self.last = None;
            return None;
        };
        if self.last == Some(b'\n') {
            self.line += 1;
        }
        self.last = Some(b);
        self.cur += 1;
        Some(b)
    }

    /// Pushes back the last byte; a no-op after the end was reached.
    fn ungetc(&mut self) {
        if self.last.is_some() {
            self.ungot = true;
        }
    }

    fn skip_ws(&mut self) {
        loop {
            match self.getc() {
                Some(b) if is_ws(b) => {}
                _ => {
                    self.ungetc();
                    break;
                }
            }
        }
    }

    /// Skips whitespace, then consumes `want` if it is next.
    fn expect(&mut self, want: u8) -> bool {
        self.skip_ws();
        if self.getc() == Some(want) {
            true
        } else {
            self.ungetc();
            false
        }
    }

    /// Consumes `pattern` byte by byte, stopping (and pushing back) at the
    /// first mismatch.
    fn matches(&mut self, pattern: &[u8]) -> bool {
        for &want in pattern {
            if self.getc() != Some(want) {
                self.ungetc();
                return false;
            }
        }
        true
    }
}

/// One value, with `depth` containers still allowed below this point.
fn parse_value(input: &mut Input<'_>, depth: usize) -> Result<Value, Fail> {
    input.skip_ws();
    let ch = input.getc();
    match ch {
        Some(b'n') => literal(input, b"ull", Value::Null),
        Some(b'f') => literal(input, b"alse", Value::Bool(false)),
        Some(b't') => literal(input, b"rue", Value::Bool(true)),
        Some(b'"') => parse_string(input).map(Value::String),
        Some(b'[') => parse_array(input, depth),
        Some(b'{') => parse_object(input, depth),
        Some(b) if b.is_ascii_digit() || b == b'-' => {
            input.ungetc();
            parse_number(input)
        }
        _ => {
            input.ungetc();
            Err(Fail::Syntax)
        }
    }
}

fn literal(input: &mut Input<'_>, rest: &[u8], value: Value) -> Result<Value, Fail> {
    if input.matches(rest) {
        Ok(value)
    } else {
        Err(Fail::Syntax)
    }
}

fn parse_array(input: &mut Input<'_>, depth: usize) -> Result<Value, Fail> {
    let Some(depth) = depth.checked_sub(1) else {
        return Err(Fail::Syntax);
    };
    let mut items = Vec::new();
    if input.expect(b']') {
        return Ok(Value::Array(items));
    }
    loop {
        items.push(parse_value(input, depth)?);
        if !input.expect(b',') {
            break;
        }
    }
    if input.expect(b']') {
        Ok(Value::Array(items))
    } else {
        Err(Fail::Syntax)
    }
}

fn parse_object(input: &mut Input<'_>, depth: usize) -> Result<Value, Fail> {
    let Some(depth) = depth.checked_sub(1) else {
        return Err(Fail::Syntax);
    };
    let mut object = Map::new();
    if input.expect(b'}') {
        return Ok(Value::Object(object));
    }
    loop {
        if !input.expect(b'"') {
            return Err(Fail::Syntax);
        }
        let key = parse_string(input)?;
        if !input.expect(b':') {
            return Err(Fail::Syntax);
        }
        let value = parse_value(input, depth)?;
        // stout stores objects in a std::map: a repeated key keeps the last
        // value, and iteration is in key order (see `validate`).
        object.insert(key, value);
        if !input.expect(b',') {
            break;
        }
    }
    if input.expect(b'}') {
        Ok(Value::Object(object))
    } else {
        Err(Fail::Syntax)
    }
}

/// The body of a string, after its opening quote.
fn parse_string(input: &mut Input<'_>) -> Result<String, Fail> {
    let mut out = Vec::new();
    loop {
        let ch = match input.getc() {
            Some(b) if b >= b' ' => b,
            // A control byte or the end of input.
            _ => {
                input.ungetc();
                return Err(Fail::Syntax);
            }
        };
        match ch {
            b'"' => break,
            b'\\' => {
                let escaped = match input.getc() {
                    Some(b'"') => b'"',
                    Some(b'\\') => b'\\',
                    Some(b'/') => b'/',
                    Some(b'b') => 0x08,
                    Some(b'f') => 0x0c,
                    Some(b'n') => b'\n',
                    Some(b'r') => b'\r',
                    Some(b't') => b'\t',
                    Some(b'u') => {
                        parse_codepoint(input, &mut out)?;
                        continue;
                    }
                    _ => return Err(Fail::Syntax),
                };
                out.push(escaped);
            }
            b => out.push(b),
        }
    }
    // The input is UTF-8 and escapes only produce whole scalar values, so
    // this cannot fail; stay total anyway.
    Ok(String::from_utf8(out)
        .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()))
}

/// Four hex digits; `None` at the end of input or (after pushing it back)
/// at a non-hex byte.
fn parse_quadhex(input: &mut Input<'_>) -> Option<u32> {
    let mut value = 0;
    for _ in 0..4 {
        let b = input.getc()?;
        let Some(digit) = char::from(b).to_digit(16) else {
            input.ungetc();
            return None;
        };
        value = value * 16 + digit;
    }
    Some(value)
}

/// A `\uXXXX` escape (after the `u`), with UTF-16 surrogate pairs.
fn parse_codepoint(input: &mut Input<'_>, out: &mut Vec<u8>) -> Result<(), Fail> {
    let first = parse_quadhex(input).ok_or(Fail::Syntax)?;
    let code = if (0xd800..=0xdfff).contains(&first) {
        if first >= 0xdc00 {
            // A low surrogate cannot come first.
            return Err(Fail::Syntax);
        }
        if input.getc() != Some(b'\\') || input.getc() != Some(b'u') {
            input.ungetc();
            return Err(Fail::Syntax);
        }
        let second = parse_quadhex(input).ok_or(Fail::Syntax)?;
        if !(0xdc00..=0xdfff).contains(&second) {
            return Err(Fail::Syntax);
        }
        0x10000 + (((first - 0xd800) << 10) | (second - 0xdc00))
    } else {
        first
    };
    let c = char::from_u32(code).ok_or(Fail::Syntax)?;
    let mut buf = [0; 4];
    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
    Ok(())
}

/// A number: picojson gathers every byte in `[0-9+-eE.]`, then takes it as
/// a 64-bit integer (`strtoimax`) if all of it is one and it fits, else as a
/// double (`strtod`) if all of it is one, else fails. An infinite double
/// makes stout throw "Value out of range".
fn parse_number(input: &mut Input<'_>) -> Result<Value, Fail> {
    let start = input.cur.saturating_sub(usize::from(input.ungot));
    let mut text = String::new();
    loop {
        match input.getc() {
            Some(b) if b.is_ascii_digit() || matches!(b, b'+' | b'-' | b'e' | b'E' | b'.') => {
                text.push(char::from(b));
            }
            _ => {
                input.ungetc();
                break;
            }
        }
    }
    if text.is_empty() {
        return Err(Fail::Syntax);
    }
    // Rust's integer grammar on these bytes is strtoimax's: optional sign,
    // decimal digits, and an error on overflow (which falls back to strtod).
    if let Ok(i) = text.parse::<i64>() {
        return Ok(Value::Number(Number::from(i)));
    }
    let f = strtod_whole(&text).ok_or(Fail::Syntax)?;
    Number::from_f64(f)
        .map(Value::Number)
        .ok_or(Fail::OutOfRange { offset: start })
}

/// `strtod` on `text`, only if it consumes all of it. `text` holds only
/// `[0-9+-eE.]`, so hexadecimal, `inf` and `nan` forms cannot occur; what
/// remains is `[+-]? (digits [. digits?] | . digits) ([eE] [+-]? digits)?`.
/// The value is computed by Rust's correctly rounded parser, as glibc's is.
fn strtod_whole(text: &str) -> Option<f64> {
    let bytes = text.as_bytes();
    let mut i = 0;
    let sign = match bytes.first() {
        Some(b'-') => {
            i += 1;
            "-"
        }
        Some(b'+') => {
            i += 1;
            ""
        }
        _ => "",
    };
    let digits = |from: usize| {
        bytes[from..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count()
    };
    let int_len = digits(i);
    let int_part = &text[i..i + int_len];
    i += int_len;
    let mut frac_part = "";
    if bytes.get(i) == Some(&b'.') {
        let frac_len = digits(i + 1);
        frac_part = &text[i + 1..i + 1 + frac_len];
        i += 1 + frac_len;
    }
    if int_part.is_empty() && frac_part.is_empty() {
        return None;
    }
    let mut exponent = "0";
    if matches!(bytes.get(i), Some(b'e' | b'E')) {
        let mut j = i + 1;
        if matches!(bytes.get(j), Some(b'+' | b'-')) {
            j += 1;
        }
        let exp_len = digits(j);
        // Without digits strtod leaves the exponent unconsumed, so the
        // whole-string check below fails.
        if exp_len > 0 {
            exponent = &text[i + 1..j + exp_len];
            i = j + exp_len;
        }
    }
    if i != bytes.len() {
        return None;
    }
    let int_part = if int_part.is_empty() { "0" } else { int_part };
    let frac_part = if frac_part.is_empty() { "0" } else { frac_part };
    format!("{sign}{int_part}.{frac_part}e{exponent}")
        .parse()
        .ok()
}

/// 1-based line and column (in characters) of byte `offset` in `text`.
pub(crate) fn line_column(text: &[u8], offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |p| p + 1);
    let line = 1 + before.iter().filter(|&&b| b == b'\n').count();
    // Count UTF-8 lead bytes so a multi-byte character is one column.
    let column = 1 + before[line_start..]
        .iter()
        .filter(|&&b| b & 0xc0 != 0x80)
        .count();
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ok(text: &str) -> Value {
        match parse(text.as_bytes()) {
            Ok(v) => v,
            Err(e) => panic!("{text:?} rejected: {}", e.message),
        }
    }

    fn err(text: &str) -> String {
        match parse(text.as_bytes()) {
            Ok(v) => panic!("{text:?} accepted as {v}"),
            Err(e) => e.message,
        }
    }

    #[test]
    fn accepts_what_picojson_accepts() {
        assert_eq!(
            ok(r#" {"a": [1, -2, 3.5, true, false, null, "x"]} "#),
            json!({"a": [1, -2, 3.5, true, false, null, "x"]})
        );
        assert_eq!(ok("007"), json!(7));
        assert_eq!(ok("-0"), json!(0));
        assert_eq!(ok("1."), json!(1.0));
        assert_eq!(ok("-.5"), json!(-0.5));
        assert_eq!(ok("1E+2"), json!(100.0));
        assert_eq!(ok("1e-400"), json!(0.0));
        assert_eq!(ok("9223372036854775807"), json!(i64::MAX));
        assert_eq!(
            ok("9223372036854775808"),
            json!(9_223_372_036_854_775_808.0)
        );
        assert_eq!(ok(r#"{"a":1,"a":2}"#), json!({"a": 2}));
        assert_eq!(ok(r#""\u00e9\ud83d\ude00\/\u0000""#), json!("é😀/\u{0}"));
        assert_eq!(ok("\"tab\u{7f}é\""), json!("tab\u{7f}é"));
    }

    #[test]
    fn words_errors_like_stout() {
        assert_eq!(err(""), "syntax error at line 1 near: ");
        assert_eq!(err("\n"), "syntax error at line 1 near: ");
        assert_eq!(
            err("{} x"),
            "Parsed JSON included non-whitespace trailing characters:  x"
        );
        assert_eq!(
            err("1 x"),
            "Parsed JSON included non-whitespace trailing characters: x"
        );
        // The cursor ends past the pushed-back newline: stout's own quirk.
        assert_eq!(
            err("1\n"),
            "Parsed JSON included non-whitespace trailing characters: "
        );
        assert_eq!(err("1e400"), "Value out of range");
        assert_eq!(err("[1e400, }"), "Value out of range");
        assert_eq!(err("{\n\"a\": x,\n}"), "syntax error at line 2 near: x,");
        assert_eq!(err("[1,\n2,]"), "syntax error at line 2 near: ]");
        assert_eq!(err("\"a\tb\""), "syntax error at line 1 near: b\"");
        assert_eq!(err("nul"), "syntax error at line 1 near: ");
        assert_eq!(err("nulL"), "syntax error at line 1 near: L");
        assert_eq!(err("1.5e"), "syntax error at line 1 near: ");
        assert_eq!(err("--1"), "syntax error at line 1 near: ");
        // The byte after a lone high surrogate is pushed back and shown.
        assert_eq!(err("\"\\ud800\""), "syntax error at line 1 near: \"");
        assert_eq!(err("\"\\udc00x\""), "syntax error at line 1 near: x\"");
        assert_eq!(err("Infinity"), "syntax error at line 1 near: Infinity");
    }

    #[test]
    fn nesting_limit_is_stouts() {
        let deep = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
        assert!(parse(deep(200).as_bytes()).is_ok());
        assert_eq!(
            parse(deep(201).as_bytes()).map_err(|e| e.message),
            Err(format!("syntax error at line 1 near: {}", "]".repeat(201)))
        );
        let objects = |n: usize| format!("{}1{}", "{\"a\":".repeat(n), "}".repeat(n));
        assert!(parse(objects(200).as_bytes()).is_ok());
        assert!(parse(objects(201).as_bytes()).is_err());
        // Far deeper than the stack would allow if it were unbounded.
        assert!(parse(deep(1_000_000).as_bytes()).is_err());
    }

    #[test]
    fn error_positions_agree_with_picojson_lines() {
        for text in ["{\n", "[1,\n  x]", "\n\n  ?", "{\"a\"\n:\n}"] {
            let e = match parse(text.as_bytes()) {
                Err(e) => e,
                Ok(v) => panic!("{text:?} accepted as {v}"),
            };
            let (line, _) = line_column(text.as_bytes(), e.offset);
            assert!(
                e.message
                    .starts_with(&format!("syntax error at line {line} ")),
                "{text:?}: {} vs line {line}",
                e.message
            );
        }
        assert_eq!(line_column("ab\ncé x".as_bytes(), 8), (2, 5));
    }
}
