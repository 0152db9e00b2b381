//! The document of a report line of the usual shape, built as `shoal.store.embedded.documents.build` builds it.
//!
//! `Builder.build(line, batch, cap)` reads a report line (a protocols report of a scanned IPv4 address and TCP
//! port, every string ASCII but titles, banners and other values, no item that needs more than its terms) and
//! returns what a shard writes of it, or None for anything else: the Python builder then decides, and it stays the
//! definition (tests/store/embedded/test_native.py holds the two to the same documents). The facts both read (the
//! gap between items, the closed types, the limits) are handed over by Python when the builder is made.

use pyo3::prelude::*;
use serde::Deserialize;
use std::borrow::Cow;
use std::net::Ipv4Addr;

const TYPE_SEP: char = '\x1f';
const CONTEXT_SEP: char = '\x1e';

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Item<'a> {
    #[serde(borrow)]
    context: Cow<'a, str>,
    is_metadata: bool,
    #[serde(borrow, rename = "type")]
    item_type: Cow<'a, str>,
    #[serde(borrow)]
    value: Cow<'a, str>,
}

#[derive(Deserialize)]
struct Line<'a> {
    #[serde(borrow)]
    date: Cow<'a, str>,
    #[serde(borrow)]
    id: Cow<'a, str>,
    #[serde(borrow)]
    items: Vec<Item<'a>>,
}

/// (id, document, target, sort, scanned address, first port-tcp, day, kinds joined by NUL)
type Built = (String, String, u64, i64, String, u32, i64, String);

#[pyclass]
struct Builder {
    gap: String,
    closed: Vec<String>,
    special: Vec<String>,
    max_id: usize,
    cut: usize,
    first_day: i64,
    last_day: i64,
}

#[pymethods]
impl Builder {
    #[new]
    fn new(
        gap: String,
        closed: Vec<String>,
        special: Vec<String>,
        max_id: usize,
        cut: usize,
        first_day: i64,
        last_day: i64,
    ) -> Self {
        Builder { gap, closed, special, max_id, cut, first_day, last_day }
    }

    /// The document of a report line, or None when the Python builder has to decide.
    fn build(&self, line: &[u8], batch: u64, cap: usize) -> Option<Built> {
        let report: Line = serde_json::from_slice(line).ok()?;
        self.document(&report, batch, cap)
    }
}

/// Days since 1970-01-01 of a `YYYY-MM-DD` date (a real one, year 1 on), else None.
fn day_of(date: &str) -> Option<i64> {
    let b = date.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let number = |part: &[u8]| -> Option<i64> {
        part.iter().try_fold(0i64, |n, &c| if c.is_ascii_digit() { Some(n * 10 + (c - b'0') as i64) } else { None })
    };
    let (year, month, day) = (number(&b[0..4])?, number(&b[5..7])?, number(&b[8..10])?);
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days_in_month = [31, if leap { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    if year < 1 || !(1..=12).contains(&month) || day < 1 || day > days_in_month[(month - 1) as usize] {
        return None;
    }
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let year_of_era = y - era * 400;
    let day_of_year = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    Some(era * 146_097 + day_of_era - 719_468)
}

/// The number of a text of ASCII digits, if it fits a u32.
fn decimal(value: &str) -> Option<u32> {
    if value.is_empty() || !value.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    value.parse().ok()
}

/// Python's `str.strip()` of an ASCII string.
fn strip(text: &str) -> &str {
    text.trim_matches(|c: char| matches!(c, ' ' | '\t' | '\n' | '\r' | '\x0b' | '\x0c' | '\x1c'..='\x1f'))
}

/// `documents.reversed_name` of an ASCII host name: `host_key` (stripped, no trailing dot, lowercased), its labels
/// reversed.
fn reversed_name(host: &str) -> String {
    let key = strip(host).trim_end_matches('.').to_ascii_lowercase();
    let mut name = String::with_capacity(key.len());
    for (i, label) in key.rsplit('.').enumerate() {
        if i > 0 {
            name.push('.');
        }
        name.push_str(label);
    }
    name
}

/// `plan.url_host` of an ASCII URL when its quick path reads it (`scheme://name[:port]/…`); None otherwise.
fn url_host(url: &str) -> Option<String> {
    let text = strip(url);
    let start = text.find("://")?;
    let first = text.as_bytes()[0];
    if start == 0
        || !first.is_ascii_alphabetic()
        || !text[..start].bytes().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'-' | b'.'))
    {
        return None;
    }
    let rest = &text[start + 3..];
    let authority = &rest[..rest.find(|c| matches!(c, '/' | '?' | '#')).unwrap_or(rest.len())];
    let name = authority.split(':').next().unwrap_or("");
    let plain = authority.bytes().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_' | b':'));
    if name.is_empty() || !plain || text.contains(|c| matches!(c, '\t' | '\r' | '\n')) {
        return None;
    }
    Some(name.to_ascii_lowercase())
}

/// 128 bits of an IPv4 address mapped into IPv6, as `schema.address_bits` writes them.
fn address_bits(address: Ipv4Addr) -> String {
    format!("{:0128b}", u32::from(address) as u128 | 0xffff_0000_0000)
}

/// A JSON string as orjson writes it.
fn push_json(out: &mut String, text: &str) {
    out.push('"');
    let mut start = 0;
    for (i, c) in text.bytes().enumerate() {
        if c == b'"' || c == b'\\' || c < 0x20 {
            out.push_str(&text[start..i]);
            match c {
                b'"' => out.push_str("\\\""),
                b'\\' => out.push_str("\\\\"),
                b'\n' => out.push_str("\\n"),
                b'\t' => out.push_str("\\t"),
                b'\r' => out.push_str("\\r"),
                0x08 => out.push_str("\\b"),
                0x0c => out.push_str("\\f"),
                _ => out.push_str(&format!("\\u{:04x}", c)),
            }
            start = i + 1;
        }
    }
    out.push_str(&text[start..]);
    out.push('"');
}

fn push_list(out: &mut String, name: &str, values: &[String]) {
    out.push_str(",\"");
    out.push_str(name);
    out.push_str("\":[");
    for (i, value) in values.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_json(out, value);
    }
    out.push(']');
}

fn insert(values: &mut Vec<String>, value: String) {
    if !values.contains(&value) {
        values.push(value);
    }
}

impl Builder {
    fn document(&self, report: &Line, batch: u64, cap: usize) -> Option<Built> {
        let id: &str = &report.id;
        let id_chars = id.chars().count();
        if id_chars == 0 || id_chars > self.max_id || report.items.is_empty() || report.items.len() > cap {
            return None;
        }
        let day = day_of(&report.date)?;
        if day < self.first_day || day > self.last_day {
            return None;
        }
        let mut words: Vec<(String, Vec<&str>)> = Vec::with_capacity(16);
        let mut exact: Vec<String> = Vec::with_capacity(24);
        let mut named: Vec<String> = Vec::new();
        let mut empty_types: Vec<&str> = Vec::new();
        let mut open_named: Vec<&str> = Vec::new();
        let mut hosts: Vec<String> = Vec::new();
        let mut ipc: Vec<String> = Vec::new();
        let mut ipall: Vec<String> = Vec::new();
        let mut multi: Vec<String> = Vec::new();
        let mut first_context: Vec<(String, &str)> = Vec::with_capacity(24);
        let mut scanned: Option<Ipv4Addr> = None;
        let mut port: Option<u32> = None;
        // Each port item's number and text without leading zeros (`plan.port_value`), when its value is ASCII
        // digits that fit a u32; the others are the Python builder's.
        let ports: Vec<Option<(u32, String)>> = report
            .items
            .iter()
            .map(|item| match &*item.item_type {
                "port-tcp" | "port-udp" => decimal(&item.value).map(|n| (n, n.to_string())),
                _ => None,
            })
            .collect();
        for (item, number) in report.items.iter().zip(&ports) {
            let (item_type, context): (&str, &str) = (&item.item_type, &item.context);
            let mut value: &str = &item.value;
            if item_type.is_empty() || !item_type.is_ascii() || !context.is_ascii() {
                return None;
            }
            if self.special.iter().any(|s| s == item_type) {
                match item_type {
                    "ip" => {
                        let address: Ipv4Addr = value.parse().ok()?;
                        let text = address.to_string();
                        if text != value {
                            return None;
                        }
                        if context.is_empty() && scanned.is_none() {
                            scanned = Some(address);
                        } else {
                            ipall.push(text);
                            ipc.push(format!("{}{}{}", context, TYPE_SEP, address_bits(address)));
                        }
                    }
                    "port-tcp" | "port-udp" => {
                        let digits = !value.is_empty() && value.bytes().all(|c| c.is_ascii_digit());
                        if context.is_empty() || digits {
                            // a scanned port must be one; a named context's digits lose their leading zeros
                            let (n, text) = number.as_ref()?;
                            if context.is_empty() && *n > 0xFFFF {
                                return None;
                            }
                            if context.is_empty() && item_type == "port-tcp" && port.is_none() {
                                port = Some(*n);
                            }
                            value = text;
                        } else if !value.is_ascii() {
                            return None;
                        }
                    }
                    "host" | "url" => {
                        if !value.is_ascii() {
                            return None;
                        }
                        let name = if item_type == "host" {
                            if value.is_empty() { String::new() } else { reversed_name(value) }
                        } else {
                            reversed_name(&url_host(value)?)
                        };
                        if !name.is_empty() {
                            if !context.is_empty() {
                                insert(&mut hosts, format!("{}{}{}{}{}", item_type, CONTEXT_SEP, context, TYPE_SEP, name));
                            }
                            if context.is_empty() || !self.closed.iter().any(|c| c == item_type) {
                                insert(&mut hosts, format!("{}{}{}", item_type, TYPE_SEP, name));
                            }
                        }
                    }
                    "cert-sha256" => {}
                    _ => return None, // supersedes: its names go back to the coordinator
                }
            }
            let typed = format!("{}{}{}", item_type, TYPE_SEP, value);
            let mut seen = |typed: String, multi: &mut Vec<String>| match first_context.iter().find(|(k, _)| *k == typed) {
                Some((_, first)) => {
                    if *first != context {
                        insert(multi, typed);
                    }
                }
                None => first_context.push((typed, context)),
            };
            if !context.is_empty() {
                let kind = format!("{}{}{}", item_type, CONTEXT_SEP, context);
                let kinded = format!("{}{}{}", kind, TYPE_SEP, value);
                if kinded.len() > self.cut {
                    return None;
                }
                insert(&mut exact, kinded);
                match words.iter_mut().find(|(k, _)| *k == kind) {
                    Some((_, held)) => held.push(value),
                    None => words.push((kind.clone(), vec![value])),
                }
                insert(&mut named, kind);
                if self.closed.iter().any(|c| c == item_type) {
                    seen(typed, &mut multi);
                    continue;
                }
                if !open_named.contains(&item_type) {
                    open_named.push(item_type);
                }
            } else {
                if typed.len() > self.cut {
                    return None;
                }
                if !empty_types.contains(&item_type) {
                    empty_types.push(item_type);
                }
            }
            match words.iter_mut().find(|(k, _)| k == item_type) {
                Some((_, held)) => held.push(value),
                None => words.push((item_type.to_string(), vec![value])),
            }
            seen(typed.clone(), &mut multi);
            insert(&mut exact, typed);
        }
        // An open type under the empty context and a named one: its empty context's own terms (``type/``).
        for open_type in open_named.iter().filter(|t| empty_types.contains(t)) {
            let key = format!("{}{}", open_type, CONTEXT_SEP);
            let mut values: Vec<&str> = Vec::new();
            for (item, number) in report.items.iter().zip(&ports) {
                if item.item_type == *open_type && item.context.is_empty() {
                    values.push(number.as_ref().map_or(&item.value, |(_, text)| text));
                }
            }
            for value in &values {
                let term = format!("{}{}{}", key, TYPE_SEP, value);
                if term.len() > self.cut {
                    return None;
                }
                insert(&mut exact, term);
                if matches!(*open_type, "url" | "host") {
                    let name = match *open_type {
                        "url" => reversed_name(&url_host(value)?),
                        _ if value.is_empty() => String::new(),
                        _ => reversed_name(value),
                    };
                    if !name.is_empty() {
                        insert(&mut hosts, format!("{}{}{}", key, TYPE_SEP, name));
                    }
                }
            }
            words.push((key, values));
        }
        let (scanned, port) = (scanned?, port?);
        let id_bytes = id.as_bytes();
        let mut six = [0u8; 8];
        for (i, byte) in id_bytes.iter().take(6).enumerate() {
            six[2 + i] = *byte;
        }
        let sort = (day << 48) | u64::from_be_bytes(six) as i64;
        let target = (u32::from(scanned) as u64) << 16 | port as u64;

        let mut stored = String::with_capacity(2 * line_len(report));
        stored.push_str("{\"date\":");
        push_json(&mut stored, &report.date);
        stored.push_str(",\"id\":");
        push_json(&mut stored, id);
        stored.push_str(",\"items\":[");
        for (i, item) in report.items.iter().enumerate() {
            if i > 0 {
                stored.push(',');
            }
            stored.push_str("{\"context\":");
            push_json(&mut stored, &item.context);
            stored.push_str(if item.is_metadata { ",\"is_metadata\":true,\"type\":" } else { ",\"is_metadata\":false,\"type\":" });
            push_json(&mut stored, &item.item_type);
            stored.push_str(",\"value\":");
            push_json(&mut stored, &item.value);
            stored.push('}');
        }
        stored.push_str("]}");

        let mut out = String::with_capacity(2 * stored.len() + 2048);
        out.push_str("{\"id\":");
        push_json(&mut out, id);
        out.push_str(",\"words\":{");
        for (i, (key, values)) in words.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            push_json(&mut out, &key.replace('.', "\x1d"));
            out.push(':');
            if values.len() == 1 {
                push_json(&mut out, values[0]);
            } else {
                push_json(&mut out, &values.join(&self.gap));
            }
        }
        out.push('}');
        push_list(&mut out, "exact", &exact);
        out.push_str(&format!(",\"sort\":{},\"target\":{},\"batch\":{},\"doc\":\"", sort, target, batch));
        base64::encode_config_buf(stored.as_bytes(), base64::STANDARD, &mut out);
        out.push('"');
        if !named.is_empty() {
            push_list(&mut out, "kinds", &named);
        }
        if !hosts.is_empty() {
            push_list(&mut out, "hosts", &hosts);
        }
        if !ipc.is_empty() {
            push_list(&mut out, "ipc", &ipc);
            push_list(&mut out, "ipall", &ipall);
        }
        if !multi.is_empty() {
            push_list(&mut out, "multi", &multi);
        }
        let address = scanned.to_string();
        out.push_str(",\"ip\":");
        push_json(&mut out, &address);
        out.push_str(",\"ipfast\":");
        push_json(&mut out, &address);
        out.push('}');

        let mut kinds: Vec<&str> = named.iter().map(|k| k.as_str()).collect();
        kinds.extend(empty_types.iter());
        if kinds.iter().any(|k| k.contains('\0')) {
            return None;
        }
        Some((id.to_string(), out, target, sort, address, port, day, kinds.join("\0")))
    }
}

fn line_len(report: &Line) -> usize {
    report.items.iter().map(|item| item.value.len() + item.context.len() + item.item_type.len() + 48).sum::<usize>() + 64
}

#[pymodule]
fn shoal_native(_py: Python, module: &PyModule) -> PyResult<()> {
    module.add_class::<Builder>()?;
    Ok(())
}
