//! The header dictionary: a Python literal such as
//! `{'descr': '<f4', 'fortran_order': False, 'shape': (48, 64), }`.
//!
//! The parser accepts the subset of Python literal syntax that NumPy writes (and Python's
//! `repr` could produce for it): dicts, tuples, lists, single- or double-quoted strings,
//! non-negative integers (with an optional Python 2 `L` suffix), `True`, `False` and `None`.

use crate::DType;

/// The most axes an array may have (NumPy 2's own limit, `NPY_MAXDIMS`).
pub const MAX_AXES: usize = 64;

/// The deepest nesting of brackets the parser follows. A NumPy header nests three deep (a
/// dictionary, a shape tuple, a structured dtype's list of tuples); a hostile header of
/// thousands of parentheses is refused instead of exhausting the stack.
const MAX_DEPTH: usize = 16;

/// A parsed Python literal.
#[derive(Debug, Clone, PartialEq)]
enum Lit {
    Str(String),
    Int(u128),
    Bool(bool),
    None,
    Seq(Vec<Lit>),
    Dict(Vec<(Lit, Lit)>),
}

impl Lit {
    fn describe(&self) -> String {
        match self {
            Self::Str(s) => format!("{s:?}"),
            Self::Int(n) => n.to_string(),
            Self::Bool(b) => if *b { "True" } else { "False" }.to_string(),
            Self::None => "None".to_string(),
            Self::Seq(_) => "a list/tuple".to_string(),
            Self::Dict(_) => "a dict".to_string(),
        }
    }
}

struct Parser<'a> {
    text: &'a str,
    pos: usize,
    /// Brackets open at the current position.
    depth: usize,
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<char> {
        self.text[self.pos..].chars().next()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(c) if c.is_whitespace()) {
            self.bump();
        }
    }

    fn error<T>(&self, what: &str) -> Result<T, String> {
        let rest: String = self.text[self.pos..].chars().take(20).collect();
        Err(format!("{what} at character {} (near {rest:?})", self.pos))
    }

    fn expect(&mut self, c: char) -> Result<(), String> {
        self.skip_ws();
        if self.peek() == Some(c) {
            self.bump();
            Ok(())
        } else {
            self.error(&format!("expected '{c}'"))
        }
    }

    fn value(&mut self) -> Result<Lit, String> {
        self.skip_ws();
        if matches!(self.peek(), Some('{' | '(' | '[')) {
            if self.depth >= MAX_DEPTH {
                return self.error(&format!("brackets nested deeper than {MAX_DEPTH} levels"));
            }
            self.depth += 1;
            let lit = match self.peek() {
                Some('{') => self.dict(),
                Some('(') => self.seq('(', ')'),
                _ => self.seq('[', ']'),
            };
            self.depth -= 1;
            return lit;
        }
        match self.peek() {
            Some(q @ ('\'' | '"')) => self.string(q),
            Some(c) if c.is_ascii_digit() => self.int(),
            Some('-') => self.error("negative number"),
            Some(c) if c.is_ascii_alphabetic() => self.word(),
            Some(_) => self.error("unexpected character"),
            None => self.error("unexpected end of header"),
        }
    }

    fn word(&mut self) -> Result<Lit, String> {
        let start = self.pos;
        while matches!(self.peek(), Some(c) if c.is_ascii_alphanumeric() || c == '_') {
            self.bump();
        }
        match &self.text[start..self.pos] {
            "True" => Ok(Lit::Bool(true)),
            "False" => Ok(Lit::Bool(false)),
            "None" => Ok(Lit::None),
            w => {
                self.pos = start;
                self.error(&format!("unknown name '{w}'"))
            }
        }
    }

    fn int(&mut self) -> Result<Lit, String> {
        let start = self.pos;
        while matches!(self.peek(), Some(c) if c.is_ascii_digit()) {
            self.bump();
        }
        let digits = &self.text[start..self.pos];
        if matches!(self.peek(), Some('L' | 'l')) {
            self.bump();
        }
        match digits.parse::<u128>() {
            Ok(n) => Ok(Lit::Int(n)),
            Err(_) => {
                self.pos = start;
                self.error("integer too large")
            }
        }
    }

    fn string(&mut self, quote: char) -> Result<Lit, String> {
        self.bump();
        let mut out = String::new();
        loop {
            match self.bump() {
                None => return self.error("unterminated string"),
                Some(c) if c == quote => return Ok(Lit::Str(out)),
                Some('\\') => match self.bump() {
                    Some(c @ ('\\' | '\'' | '"')) => out.push(c),
                    _ => return self.error("unsupported escape in string"),
                },
                Some(c) => out.push(c),
            }
        }
    }

    fn seq(&mut self, open: char, close: char) -> Result<Lit, String> {
        self.expect(open)?;
        let mut items = Vec::new();
        loop {
            self.skip_ws();
            if self.peek() == Some(close) {
                self.bump();
                return Ok(Lit::Seq(items));
            }
            items.push(self.value()?);
            self.skip_ws();
            match self.peek() {
                Some(',') => {
                    self.bump();
                }
                Some(c) if c == close => {}
                _ => return self.error(&format!("expected ',' or '{close}'")),
            }
        }
    }

    fn dict(&mut self) -> Result<Lit, String> {
        self.expect('{')?;
        let mut items = Vec::new();
        loop {
            self.skip_ws();
            if self.peek() == Some('}') {
                self.bump();
                return Ok(Lit::Dict(items));
            }
            let key = self.value()?;
            self.expect(':')?;
            let value = self.value()?;
            items.push((key, value));
            self.skip_ws();
            match self.peek() {
                Some(',') => {
                    self.bump();
                }
                Some('}') => {}
                _ => return self.error("expected ',' or '}'"),
            }
        }
    }
}

/// What a header says about the data.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Header {
    /// The raw `descr` entry.
    pub descr: String,
    /// Element type and whether stored big-endian; `None` if unsupported.
    pub dtype: Option<(DType, bool)>,
    pub fortran_order: bool,
    pub shape: Vec<usize>,
}

/// Parse the header text. Errors are plain messages; the caller adds the file name.
pub(crate) fn parse_header(text: &str) -> Result<Header, String> {
    let mut p = Parser {
        text,
        pos: 0,
        depth: 0,
    };
    let lit = p.value()?;
    p.skip_ws();
    if p.pos != text.len() {
        return p.error("unexpected text after the header dictionary");
    }
    let Lit::Dict(items) = lit else {
        return Err(format!("expected a dictionary, found {}", lit.describe()));
    };
    let (mut descr, mut fortran, mut shape) = (None, None, None);
    for (key, value) in items {
        let Lit::Str(key) = key else {
            return Err(format!("dictionary key {} is not a string", key.describe()));
        };
        let slot = match key.as_str() {
            "descr" => &mut descr,
            "fortran_order" => &mut fortran,
            "shape" => &mut shape,
            other => return Err(format!("unexpected key '{other}'")),
        };
        if slot.replace(value).is_some() {
            return Err(format!("key '{key}' appears twice"));
        }
    }
    let descr = match descr {
        Some(Lit::Str(s)) => s,
        Some(Lit::Seq(_)) => "<structured dtype>".to_string(),
        Some(other) => return Err(format!("'descr' is {}, not a string", other.describe())),
        None => return Err("missing key 'descr'".to_string()),
    };
    let fortran_order = match fortran {
        Some(Lit::Bool(b)) => b,
        Some(other) => {
            return Err(format!(
                "'fortran_order' is {}, not True or False",
                other.describe()
            ))
        }
        None => return Err("missing key 'fortran_order'".to_string()),
    };
    let shape = match shape {
        Some(Lit::Seq(items)) if items.len() > MAX_AXES => {
            return Err(format!(
                "the shape has {} axes; at most {MAX_AXES} are supported",
                items.len()
            ))
        }
        Some(Lit::Seq(items)) => items
            .into_iter()
            .map(|d| match d {
                Lit::Int(n) => {
                    usize::try_from(n).map_err(|_| format!("axis length {n} is too large"))
                }
                other => Err(format!(
                    "shape entry {} is not an integer",
                    other.describe()
                )),
            })
            .collect::<Result<Vec<_>, _>>()?,
        Some(other) => return Err(format!("'shape' is {}, not a tuple", other.describe())),
        None => return Err("missing key 'shape'".to_string()),
    };
    let dtype = DType::parse_descr(&descr);
    Ok(Header {
        descr,
        dtype,
        fortran_order,
        shape,
    })
}

/// The header dictionary NumPy would write for a little-endian C-order array.
pub(crate) fn format_header(dtype: DType, shape: &[usize]) -> String {
    let dims: Vec<String> = shape.iter().map(|n| n.to_string()).collect();
    let shape = match dims.len() {
        1 => format!("({},)", dims[0]),
        _ => format!("({})", dims.join(", ")),
    };
    format!(
        "{{'descr': '{}', 'fortran_order': False, 'shape': {shape}, }}",
        dtype.descr()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_numpy_headers() {
        let h = parse_header("{'descr': '<f4', 'fortran_order': False, 'shape': (48, 64), }   ")
            .unwrap();
        assert_eq!(h.dtype, Some((DType::F32, false)));
        assert!(!h.fortran_order);
        assert_eq!(h.shape, vec![48, 64]);
        let h =
            parse_header("{\"shape\": [3L], \"fortran_order\": True, \"descr\": \">f8\"}").unwrap();
        assert_eq!(h.shape, vec![3]);
        assert!(h.fortran_order);
        assert_eq!(h.dtype, Some((DType::F64, true)));
        assert_eq!(
            parse_header("{'descr':'<i8','fortran_order':False,'shape':()}")
                .unwrap()
                .shape,
            Vec::<usize>::new()
        );
        let h = parse_header("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,)}")
            .unwrap();
        assert_eq!(h.dtype, None);
    }

    #[test]
    fn rejects_bad_headers() {
        for bad in [
            "",
            "{",
            "[1, 2]",
            "{'descr': '<f4', 'fortran_order': False}",
            "{'descr': '<f4', 'fortran_order': 0, 'shape': (1,)}",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (-1,)}",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (1.5,)}",
            "{'descr': '<f4', 'fortran_order': False, 'shape': 3}",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'x': 1}",
            "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (1,)}",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (1,)} junk",
            "{'descr': '<f4, 'fortran_order': False, 'shape': (1,)}",
            "{'descr': '<f4', 'fortran_order': Flase, 'shape': (1,)}",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999999999999999999999999,)}",
        ] {
            assert!(parse_header(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn deep_nesting_and_many_axes_are_errors_not_crashes() {
        // 50 000 nested parentheses: refused at the depth limit, no stack overflow.
        let deep = format!("{}{}", "(".repeat(50_000), ")".repeat(50_000));
        let e = parse_header(&deep).unwrap_err();
        assert!(e.contains("nested deeper than 16"), "{e}");
        let deep_in_dict = format!(
            "{{'descr': '<f4', 'fortran_order': False, 'shape': {}}}",
            "[".repeat(100)
        );
        assert!(parse_header(&deep_in_dict).unwrap_err().contains("nested"));
        let shape = vec!["1"; MAX_AXES + 1].join(", ");
        let many = format!("{{'descr': '<f4', 'fortran_order': False, 'shape': ({shape})}}");
        let e = parse_header(&many).unwrap_err();
        assert!(e.contains("65 axes") && e.contains("at most 64"), "{e}");
        let shape = vec!["1"; MAX_AXES].join(", ");
        let ok = format!("{{'descr': '<f4', 'fortran_order': False, 'shape': ({shape})}}");
        assert_eq!(parse_header(&ok).unwrap().shape.len(), MAX_AXES);
    }

    #[test]
    fn structured_descr_within_the_depth_limit_parses() {
        // A structured dtype with a sub-array: four levels deep, parsed, then reported as an
        // unsupported dtype by the reader.
        let h = "{'descr': [('a', '<f4', (2, 3))], 'fortran_order': False, 'shape': (2,)}";
        assert_eq!(parse_header(h).unwrap().dtype, None);
    }

    #[test]
    fn formats_like_numpy() {
        assert_eq!(
            format_header(DType::F32, &[48, 64]),
            "{'descr': '<f4', 'fortran_order': False, 'shape': (48, 64), }"
        );
        assert_eq!(
            format_header(DType::F64, &[7]),
            "{'descr': '<f8', 'fortran_order': False, 'shape': (7,), }"
        );
        assert_eq!(
            format_header(DType::U8, &[]),
            "{'descr': '|u1', 'fortran_order': False, 'shape': (), }"
        );
    }
}
