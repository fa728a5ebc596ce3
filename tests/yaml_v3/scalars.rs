//! The scalars the yaml.v3 differential test checks: a table, long strings, generated ones.

/// Tricky scalars, by kind. Many are invalid on purpose: they must stay strings.
pub(super) const TABLE: &[&str] = &[
    // dates, valid and not
    "2024-02-29",
    "2023-02-29",
    "2024-02-31",
    "2024-13-01",
    "2024-00-10",
    "2024-01-00",
    "2024-1-2",
    "2024-01-02",
    "2024-001-02",
    "2024-01-002",
    "0000-02-29",
    "1900-02-29",
    "2000-02-29",
    "2024-04-31",
    "2024-04-30",
    "2024-12-31",
    "2024-12-32",
    "12024-01-01",
    "2024-01-01x",
    "-2024-01-01",
    "+2024-01-01",
    "2024_01_01",
    "20240101",
    "2024-01",
    "2024-",
    "2024",
    "202-01-01",
    "2024/01/01",
    // timestamps with times and zones
    "2024-1-02T3:04:05Z",
    "2001-12-14t21:59:43.10-05:00",
    "2001-12-14T21:59:43.10+24:00",
    "2001-12-14T21:59:43.10+25:00",
    "2001-12-14T21:59:43.10+05:60",
    "2001-12-14T21:59:43.10+05:61",
    "2001-12-14T21:59:43.10+0500",
    "2001-12-14T21:59:43.10+05",
    "2001-12-14 21:59:43.10",
    "2001-12-14  21:59:43.10",
    "2001-12-14 21:59:43.10 -5",
    "2001-12-14 21:59:43.10Z",
    "2001-12-14T21:59:43Z",
    "2001-12-14T21:59:60Z",
    "2001-12-14T24:00:00Z",
    "2001-12-14T23:60:00Z",
    "2001-12-14T23:59:59.123456789012Z",
    "2001-12-14T23:59:59.100000000Z",
    "2001-12-14T23:59:59,5Z",
    "2001-12-14T23:59:59.Z",
    "2001-12-14T23:59:59.000Z",
    "2001-12-14T23:59:59z",
    "2001-12-14T23:59:59+00:00",
    "2001-12-14T23:59:59-00:00",
    "2001-12-14T1:2:3Z",
    "2001-12-14 1:2:3",
    "2001-12-14 1:2",
    "2001-12-14T",
    "2001-12-14 ",
    "2001-12-14t01:02:03+01:30",
    "2024-1-1 0:0:0.5",
    "2024-01-01T00:00:00",
    "2024-01-01T001:00:00Z",
    "2024-01-01T00:00:00Zx",
    "2024-01-01 00:00:00 ",
    "2001-12-14T21:59:43.1-05:00 ",
    "2024-02-30T00:00:00Z",
    "2024-02-29T23:59:59.999999999Z",
    // integers
    "0",
    "00",
    "-0",
    "+0",
    "1",
    "+1",
    "-1",
    "42",
    "0o17",
    "0O17",
    "-0o17",
    "0755",
    "0777",
    "08",
    "09",
    "0x",
    "0x1F",
    "0X1f",
    "-0x1F",
    "+0x1F",
    "0xG",
    "0b101",
    "0B101",
    "-0b101",
    "0b",
    "0b2",
    "0o",
    "0o8",
    "1_000",
    "1__0",
    "_1",
    "1_",
    "0x_1F",
    "0b_1",
    "-_1",
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775808",
    "-9223372036854775809",
    "18446744073709551615",
    "18446744073709551616",
    "0xFFFFFFFFFFFFFFFF",
    "0x10000000000000000",
    "+",
    "-",
    "1-",
    "1+1",
    "1,000",
    "1 000",
    "١٢",
    "0x8000000000000000",
    "-0x8000000000000000",
    "-0x8000000000000001",
    // floats
    "1e3",
    "1E3",
    "1e+3",
    "1e-3",
    "1.",
    "1.e3",
    ".5",
    ".5e3",
    "-.5",
    "+.5",
    ".",
    "..",
    "1.5",
    "1.30",
    "-0.0",
    "+0.0",
    "0.0",
    "1e400",
    "-1e400",
    "1e-400",
    ".5_0",
    "1_0.5",
    "1.5_",
    "1e3_",
    "1e",
    "e3",
    "1e3.5",
    "1.2.3",
    "0.1e+0010",
    "1.7976931348623157e308",
    "1.7976931348623159e308",
    "0x1p3",
    "inf",
    "Infinity",
    "nan",
    "NaN",
    ".inf",
    ".Inf",
    ".INF",
    "+.inf",
    "+.Inf",
    "+.INF",
    "-.inf",
    "-.Inf",
    "-.INF",
    ".NaN",
    ".nan",
    ".NAN",
    "-.nan",
    ".nAn",
    "+.nan",
    ".iNf",
    "._5",
    ".5e",
    ".e5",
    "1_e3",
    "08.5",
    "0x1.8p1",
    "123456789012345678901234567890",
    "5e-324",
    "1e-330",
    // null, booleans, words
    "~",
    "null",
    "Null",
    "NULL",
    "nULL",
    "",
    "true",
    "True",
    "TRUE",
    "tRUE",
    "false",
    "False",
    "FALSE",
    "yes",
    "Yes",
    "YES",
    "yES",
    "no",
    "No",
    "NO",
    "on",
    "On",
    "ON",
    "off",
    "Off",
    "OFF",
    "y",
    "Y",
    "n",
    "N",
    "<<",
    "<",
    "<<<",
    "=",
    "~~",
    "- ",
    "-",
    "--",
    "---",
    "----",
    "...",
    "....",
    "--- x",
    "... x",
    "-- x",
    "nil",
    "None",
    "none",
    // YAML 1.1 sexagesimal numbers
    "1:20",
    "10:20",
    "190:20:30",
    "1:60",
    "-1:20",
    "+1:20",
    "1:20.5",
    "1:2:3",
    "1_0:20",
    "1:",
    "a:20",
    "1:20:",
    "1:20.5_",
    "1:020",
    // indicators
    "a: b",
    "a:b",
    "a :b",
    "a:",
    "a :",
    ": a",
    ":a",
    ":",
    "? a",
    "?a",
    "?",
    "- a",
    "-a",
    "#a",
    "a #b",
    "a#b",
    "a #",
    "[a",
    "a[",
    "]",
    "{a}",
    "a{",
    "}",
    "*a",
    "&a",
    "!a",
    "!",
    "%a",
    "@a",
    "`a",
    "|a",
    ">a",
    "'a",
    "\"a",
    "a'b",
    "a\"b",
    "a,b",
    ",a",
    "a,",
    "a]",
    "a|b",
    "a>b",
    "a!",
    "a&b",
    "a*b",
    "a%b",
    "a@b",
    "a`b",
    "*",
    "&",
    "|",
    ">",
    "'",
    "\"",
    "''",
    "\"\"",
    "a: ",
    ":\t",
    "a:\tb",
    "-\ta",
    "?\ta",
    "a\t#b",
    "a #\tb",
    // whitespace and line breaks
    " a",
    "a ",
    " ",
    "  ",
    "a  b",
    "\ta",
    "a\t",
    "a\tb",
    "\t",
    "a\nb",
    "a\n",
    "\na",
    "\n",
    "\n\n",
    "a\n\n",
    "a \nb",
    "a\n b",
    "a\n\tb",
    "\ta\nb",
    "a\r\nb",
    "a\rb",
    "a\u{85}b",
    "a\u{2028}b",
    "a\u{2029}b",
    " a\nb",
    "a\nb ",
    "  a\n  b\n",
    "a\n\nb",
    "a\n \nb",
    "#a\nb",
    "a: b\nc",
    "\n a",
    "a\n\n\n",
    // unicode and control characters
    "é",
    "ünïcode",
    "日本語",
    "😀",
    "a😀b",
    "\u{FEFF}a",
    "\u{A0}",
    "a\u{A0}b",
    "\u{7F}",
    "\u{80}",
    "\u{9F}",
    "\u{FFFD}",
    "\u{E000}",
    "\u{FFFE}",
    "\u{D7FF}",
    "\0",
    "a\0b",
    "\u{1}",
    "\u{7}",
    "\u{8}",
    "\u{B}",
    "\u{C}",
    "\u{1B}",
    "\u{1F}",
    "a\\b",
    "\\",
    "\\n",
    "é: x",
    "#é",
    "ü\nö",
    // railyard's own values
    "*.example.com",
    "v1.36.2+k3s1",
    "ssh://git@h/x.git",
    "k=v:NoSchedule",
    "10.2.0.10",
    "${password}",
    "0600",
    "1.30",
    "it's",
    "@at",
    "key=value",
    "https://a.b/c?d=e#f",
];

/// Strings long enough to be folded at 80 columns, in every style that folds.
pub(super) fn long_strings() -> Vec<String> {
    let words = "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor";
    let long = format!("{words} {words} {words}");
    let mut out = vec![
        long.clone(),
        format!("#{long}"),
        format!(" {long}"),
        format!("{long} "),
        format!("{long}\t"),
        format!("\"{long}\""),
        format!("'{long}'"),
        format!("a {long} it's"),
        long.replace("sed", "sed  "),
        long.replace(' ', "  "),
        long.replace(' ', "   "),
        format!("{long}\n{long}"),
        format!("{long}\n"),
        "x".repeat(200),
        format!("{} y", "x".repeat(100)),
        format!("{}: y", "x".repeat(100)),
        format!("*{long}"),
        format!("{}", long.replace("elit", "elit\u{1}")),
        format!("{long}é{long}"),
        format!("{long}\\{long}"),
    ];
    for width in [70, 76, 78, 79, 80, 81, 82, 84] {
        let head = "a".repeat(width);
        out.push(format!("{head} b c"));
        out.push(format!("{head}  b c"));
        out.push(format!("'{head} b' c"));
        out.push(format!("\t{head} b c"));
        out.push(format!("{head} \\b c"));
    }
    out
}

/// A small fixed-seed generator (xorshift64*), so every run checks the same strings.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % n as u64).unwrap_or(0)
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

/// `count` strings shaped like dates, times, numbers and text, with tricky characters mixed in.
pub(super) fn generated(count: usize) -> Vec<String> {
    let mut rng = Rng(0x5EED_1234_ABCD_0001);
    (0..count)
        .map(|i| match i % 4 {
            0 => date_like(&mut rng),
            1 => number_like(&mut rng),
            2 => text_like(&mut rng, 1 + rng_len(i)),
            _ => text_like(&mut rng, 12 + rng_len(i) * 4),
        })
        .collect()
}

fn rng_len(i: usize) -> usize {
    (i * 7) % 11
}

fn date_like(rng: &mut Rng) -> String {
    let year = rng.pick(&[
        "2024", "2023", "1900", "2000", "0000", "9999", "202", "20240",
    ]);
    let month = rng.below(15);
    let day = rng.below(34);
    let mut out = if rng.below(2) == 0 {
        format!("{year}-{month}-{day}")
    } else {
        format!("{year}-{month:02}-{day:02}")
    };
    if rng.below(3) > 0 {
        out.push_str(rng.pick(&["T", "t", " ", "  ", "x", "_"]));
        let (hour, minute, second) = (rng.below(26), rng.below(62), rng.below(62));
        out.push_str(&format!("{hour}:{minute:02}:{second}"));
        let fraction = rng.pick(&["", ".5", ".123456789", ".1234567890123", ",25", ".", ".000"]);
        out.push_str(fraction);
        let zone = rng.pick(&[
            "Z", "z", "", "+01:00", "-05:30", "+24:00", "+1:00", " Z", "+0100",
        ]);
        out.push_str(zone);
    }
    out
}

fn number_like(rng: &mut Rng) -> String {
    let sign = rng.pick(&["", "", "-", "+"]);
    let prefix = rng.pick(&["", "", "", "0", "0x", "0o", "0b", "0X", ".", "_"]);
    let mut out = format!("{sign}{prefix}");
    for _ in 0..1 + rng.below(8) {
        out.push_str(rng.pick(&[
            "0", "1", "7", "8", "9", "5", "_", "a", "F", "e", "E", ".", "+", "-", "e3", ":3",
        ]));
    }
    out
}

fn text_like(rng: &mut Rng, len: usize) -> String {
    const PIECES: &[&str] = &[
        "a", "b", "z", "A", " ", " ", "  ", ":", ": ", "#", " #", "-", "- ", "?", "? ", "[", "]",
        "{", "}", ",", "*", "&", "!", "|", ">", "'", "\"", "%", "@", "`", "\t", "\n", "\r", "é",
        "日", "😀", "\u{85}", "\u{2028}", "\u{FEFF}", "\u{A0}", "\0", "\u{1B}", "\\", "~", "<<",
        "y", "no", "1", "0x", ".", "---", "...", "null", "true",
    ];
    (0..len).map(|_| rng.pick(PIECES)).collect()
}
