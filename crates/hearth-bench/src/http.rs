//! Just enough HTTP/1.1 to ask a local server for a status code: used to spot-check targets
//! before a load run and to time start-up. (wrk does the load itself.)

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::Duration;

/// The `host:port` of an `http://host:port[/…]` URL.
pub fn authority(url: &str) -> Result<String, String> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| format!("{url} is not an http:// URL"))?;
    let authority = rest.split('/').next().unwrap_or_default();
    if authority.is_empty() {
        return Err(format!("{url} names no host"));
    }
    Ok(if authority.contains(':') {
        authority.to_owned()
    } else {
        format!("{authority}:80")
    })
}

pub fn port(authority: &str) -> Result<u16, String> {
    authority
        .rsplit_once(':')
        .and_then(|(_, port)| port.parse().ok())
        .ok_or_else(|| format!("no port in {authority}"))
}

fn resolve(authority: &str) -> Result<SocketAddr, String> {
    authority
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve {authority}: {e}"))?
        .next()
        .ok_or_else(|| format!("{authority} resolves to nothing"))
}

/// `GET path` and the response's status code; `cookie` is sent as the session cookie.
pub fn get_status(authority: &str, path: &str, cookie: Option<&str>) -> Result<u16, String> {
    let address = resolve(authority)?;
    let timeout = Duration::from_secs(10);
    let mut stream = TcpStream::connect_timeout(&address, timeout).map_err(|e| e.to_string())?;
    stream
        .set_read_timeout(Some(timeout))
        .map_err(|e| e.to_string())?;
    let cookie_line = cookie
        .map(|token| format!("Cookie: hearth_session={token}\r\n"))
        .unwrap_or_default();
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {authority}\r\n{cookie_line}Connection: close\r\n\r\n"
    );
    stream
        .write_all(request.as_bytes())
        .map_err(|e| e.to_string())?;
    let mut head = [0u8; 64];
    let mut filled = 0;
    while filled < 12 {
        let n = stream
            .read(&mut head[filled..])
            .map_err(|e| e.to_string())?;
        if n == 0 {
            break;
        }
        filled += n;
    }
    parse_status(&head[..filled])
}

fn parse_status(head: &[u8]) -> Result<u16, String> {
    let text = String::from_utf8_lossy(head);
    text.strip_prefix("HTTP/1.1 ")
        .or_else(|| text.strip_prefix("HTTP/1.0 "))
        .and_then(|rest| rest.get(..3))
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| format!("not an HTTP response: {text:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_status_lines_parse() {
        assert_eq!(
            authority("http://127.0.0.1:8080/").unwrap(),
            "127.0.0.1:8080"
        );
        assert_eq!(authority("http://localhost").unwrap(), "localhost:80");
        assert!(authority("https://x").is_err());
        assert_eq!(port("127.0.0.1:8080").unwrap(), 8080);
        assert_eq!(
            parse_status(b"HTTP/1.1 308 Permanent Redirect\r\n").unwrap(),
            308
        );
    }
}
