//! Stimulus maps as CSV, the way the original's pvc-7 example builds them: one row per period with `start`, `end`
//! and a name column (`name`, or a column named after the stimulus type such as `ori`), an optional `color`.

use std::path::Path;

use super::{StimPeriod, StimulusError, tab10_color};

/// Periods of `stim_type` from a CSV file: the name comes from column `name` or, failing that, from the column
/// named `stim_type` (so one pvc-7 CSV with `ori`, `sf`, `tf` columns gives each type its map); colours from an
/// optional `color` column (`(r, g, b, a)`, `r g b a` or `#rrggbb[aa]`), otherwise matplotlib's tab10 per name.
pub fn import_csv(path: &Path, stim_type: &str) -> Result<Vec<StimPeriod>, StimulusError> {
    let text = std::fs::read_to_string(path)
        .map_err(|source| StimulusError::Io { path: path.display().to_string(), source })?;
    parse_csv(&text, stim_type).map_err(|msg| StimulusError::BadCsv { path: path.display().to_string(), msg })
}

/// [`import_csv`] on text already read; errors are messages with the line number.
pub fn parse_csv(text: &str, stim_type: &str) -> Result<Vec<StimPeriod>, String> {
    let mut lines = text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty());
    let (_, header) = lines.next().ok_or("the file is empty")?;
    let header: Vec<String> = split_csv_line(header)?.into_iter().map(|h| h.trim().to_string()).collect();
    let find = |name: &str| header.iter().position(|h| h.eq_ignore_ascii_case(name));
    let start = find("start").ok_or_else(|| format!("no 'start' column (columns: {})", header.join(", ")))?;
    let end = find("end").ok_or_else(|| format!("no 'end' column (columns: {})", header.join(", ")))?;
    let name = find("name").or_else(|| find(stim_type)).ok_or_else(|| {
        format!("no 'name' column and no column named after the stimulus type '{stim_type}' (columns: {})", header.join(", "))
    })?;
    let color = find("color").or_else(|| find("colour"));
    let mut rows = Vec::new();
    for (i, line) in lines {
        let lineno = i + 1;
        let f = split_csv_line(line).map_err(|e| format!("line {lineno}: {e}"))?;
        if f.len() != header.len() {
            return Err(format!("line {lineno}: {} fields, the header has {}", f.len(), header.len()));
        }
        let num = |j: usize, what: &str| -> Result<f64, String> {
            let v = f[j].trim();
            v.parse::<f64>()
                .ok()
                .filter(|x| x.is_finite())
                .ok_or_else(|| format!("line {lineno}: {what} '{v}' is not a number"))
        };
        let (s, e) = (num(start, "start")?, num(end, "end")?);
        let label = f[name].trim().to_string();
        if label.is_empty() {
            return Err(format!("line {lineno}: empty stimulus name"));
        }
        let c = match color {
            Some(j) if !f[j].trim().is_empty() => Some(parse_color(f[j].trim()).map_err(|m| format!("line {lineno}: {m}"))?),
            _ => None,
        };
        rows.push((label, s, e, c));
    }
    let mut names: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    let periods = rows
        .iter()
        .map(|(label, s, e, c)| {
            let idx = names.binary_search(&label.as_str()).unwrap_or(0);
            StimPeriod { name: label.clone(), start: *s, end: *e, color: c.unwrap_or_else(|| tab10_color(idx)) }
        })
        .collect();
    Ok(periods)
}

/// Write periods as `name,start,end,color` with colours as `"(r, g, b, a)"`, which [`import_csv`] reads back.
pub fn export_csv(path: &Path, periods: &[StimPeriod]) -> Result<(), StimulusError> {
    let mut out = String::from("name,start,end,color\n");
    for p in periods {
        let [r, g, b, a] = p.color;
        out.push_str(&format!("{},{},{},\"({r}, {g}, {b}, {a})\"\n", quote(&p.name), p.start, p.end));
    }
    crate::io::atomic::write_atomic(path, out.as_bytes())
        .map_err(|source| StimulusError::Io { path: path.display().to_string(), source })
}

fn quote(s: &str) -> String {
    if s.contains([',', '"', '\n']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s.to_string() }
}

/// Split one CSV line into fields (RFC 4180 quoting, `""` inside quotes).
pub fn split_csv_line(line: &str) -> Result<Vec<String>, String> {
    let mut fields = Vec::new();
    let mut cur = String::new();
    let mut in_quotes = false;
    let mut chars = line.trim_end_matches('\r').chars().peekable();
    while let Some(c) = chars.next() {
        match (c, in_quotes) {
            ('"', true) if chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            ('"', true) => in_quotes = false,
            ('"', false) if cur.trim().is_empty() => {
                cur.clear();
                in_quotes = true;
            }
            (',', false) => fields.push(std::mem::take(&mut cur)),
            (c, _) => cur.push(c),
        }
    }
    if in_quotes {
        return Err("unterminated quote".into());
    }
    fields.push(cur);
    Ok(fields)
}

fn parse_color(s: &str) -> Result<[u8; 4], String> {
    if let Some(hex) = s.strip_prefix('#') {
        let byte = |i: usize| u8::from_str_radix(hex.get(i..i + 2).unwrap_or("zz"), 16);
        return match hex.len() {
            6 | 8 => {
                let a = if hex.len() == 8 { byte(6) } else { Ok(255) };
                match (byte(0), byte(2), byte(4), a) {
                    (Ok(r), Ok(g), Ok(b), Ok(a)) => Ok([r, g, b, a]),
                    _ => Err(format!("colour '{s}' is not #rrggbb or #rrggbbaa")),
                }
            }
            _ => Err(format!("colour '{s}' is not #rrggbb or #rrggbbaa")),
        };
    }
    let parts: Vec<&str> = s
        .trim_matches(|c| matches!(c, '(' | ')' | '[' | ']'))
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|p| !p.is_empty())
        .collect();
    let vals: Result<Vec<u8>, _> = parts.iter().map(|p| p.parse::<f64>().ok().filter(|v| (0.0..=255.0).contains(v)).map(|v| v.round() as u8).ok_or(())).collect();
    match vals.as_deref() {
        Ok([r, g, b]) => Ok([*r, *g, *b, 255]),
        Ok([r, g, b, a]) => Ok([*r, *g, *b, *a]),
        _ => Err(format!("colour '{s}' is not (r, g, b[, a]) with values 0-255 or #rrggbb")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pvc7_style_csv_gives_one_map_per_column() {
        let text = "start,end,ori,sf,tf,contrast\n0,30,0,0.04,2,1\n30,60,45,0.08,2,1\n60,90,0,0.04,8,1\n";
        let ori = parse_csv(text, "ori").expect("ori");
        assert_eq!(ori.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(), ["0", "45", "0"]);
        assert_eq!(ori[0].color, ori[2].color);
        assert_ne!(ori[0].color, ori[1].color);
        let tf = parse_csv(text, "tf").expect("tf");
        assert_eq!((tf[2].name.as_str(), tf[2].start, tf[2].end), ("8", 60.0, 90.0));
        let e = parse_csv(text, "speed").expect_err("no column");
        assert!(e.contains("speed") && e.contains("columns"), "{e}");
    }

    #[test]
    fn export_then_import_round_trips() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("m.csv");
        let ps = vec![
            StimPeriod { name: "odor, A".into(), start: 0.0, end: 328.0, color: [0, 75, 0, 255] },
            StimPeriod { name: "stim_C".into(), start: 1156.0, end: 2987.5, color: [125, 0, 0, 153] },
        ];
        export_csv(&path, &ps).expect("write");
        assert_eq!(import_csv(&path, "any").expect("read"), ps);
    }

    #[test]
    fn bad_rows_name_their_line() {
        let e = parse_csv("name,start,end\na,0,1\nb,x,2\n", "t").expect_err("bad number");
        assert!(e.contains("line 3") && e.contains("'x'"), "{e}");
        let e = parse_csv("name,start,end,color\na,0,1,(300,0,0)\n", "t").expect_err("bad colour");
        assert!(e.contains("line 2"), "{e}");
        assert!(parse_csv("", "t").is_err());
        assert_eq!(parse_color("#ff000080").expect("hex"), [255, 0, 0, 128]);
    }
}
