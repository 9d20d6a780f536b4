//! The server process as Linux's /proc shows it: which process listens on a port, and its peak
//! resident memory.

use std::fs;

/// The process listening on TCP `port` (IPv4 or IPv6), preferring one named `hearth`.
pub fn listener_pid(port: u16) -> Option<u32> {
    let inodes: Vec<String> = ["/proc/net/tcp", "/proc/net/tcp6"]
        .iter()
        .filter_map(|path| fs::read_to_string(path).ok())
        .flat_map(|table| listening_inodes(&table, port))
        .collect();
    if inodes.is_empty() {
        return None;
    }
    let owners: Vec<u32> = processes()
        .filter(|&pid| owns_socket(pid, &inodes))
        .collect();
    owners
        .iter()
        .copied()
        .find(|&pid| command_name(pid).as_deref() == Some("hearth"))
        .or_else(|| owners.first().copied())
}

/// Socket inodes in LISTEN state (`st` 0A) on `port`, from a /proc/net/tcp table.
fn listening_inodes(table: &str, port: u16) -> Vec<String> {
    table
        .lines()
        .skip(1)
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let local_port = fields.get(1)?.rsplit_once(':')?.1;
            let listening = *fields.get(3)? == "0A";
            let matches = u16::from_str_radix(local_port, 16).ok()? == port;
            (listening && matches).then(|| fields.get(9).map(|s| (*s).to_owned()))?
        })
        .collect()
}

fn processes() -> impl Iterator<Item = u32> {
    fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse().ok())
}

fn owns_socket(pid: u32, inodes: &[String]) -> bool {
    let Ok(fds) = fs::read_dir(format!("/proc/{pid}/fd")) else {
        return false;
    };
    fds.flatten().any(|fd| {
        fs::read_link(fd.path()).is_ok_and(|target| {
            let target = target.to_string_lossy();
            inodes
                .iter()
                .any(|inode| target == format!("socket:[{inode}]"))
        })
    })
}

fn command_name(pid: u32) -> Option<String> {
    fs::read_to_string(format!("/proc/{pid}/comm"))
        .ok()
        .map(|s| s.trim().to_owned())
}

/// Peak resident set size (VmHWM) in KiB.
pub fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status_field_kib(&status, "VmHWM:")
}

fn status_field_kib(status: &str, field: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|line| line.strip_prefix(field))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// CPU time (user + system) the process has used, in seconds.
///
/// Unlike requests per second, CPU per request does not depend on what else the machine is
/// running, so it is the figure to compare when other work shares the cores.
pub fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    cpu_ticks(&stat).map(|ticks| ticks as f64 / CLOCK_TICKS_PER_SECOND)
}

/// /proc reports CPU times in USER_HZ, which Linux fixes at 100 for user space.
const CLOCK_TICKS_PER_SECOND: f64 = 100.0;

/// utime + stime: fields 14 and 15, counted after the `(comm)` field, which may hold spaces.
fn cpu_ticks(stat: &str) -> Option<u64> {
    let after_comm = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = after_comm.split_whitespace().collect();
    // after_comm starts at field 3 (state), so field n is at index n - 3.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

/// The whole machine's CPU time so far, in seconds summed over cores: (busy, total).
pub fn machine_cpu_seconds() -> Option<(f64, f64)> {
    let stat = fs::read_to_string("/proc/stat").ok()?;
    machine_ticks(stat.lines().next()?).map(|(busy, total)| {
        (
            busy as f64 / CLOCK_TICKS_PER_SECOND,
            total as f64 / CLOCK_TICKS_PER_SECOND,
        )
    })
}

/// The `cpu` line of /proc/stat: user nice system idle iowait irq softirq steal …;
/// idle and iowait are not busy, and guest time is already counted in user.
fn machine_ticks(cpu_line: &str) -> Option<(u64, u64)> {
    let ticks: Vec<u64> = cpu_line
        .split_whitespace()
        .skip(1)
        .take(8)
        .map(|t| t.parse().ok())
        .collect::<Option<_>>()?;
    let total: u64 = ticks.iter().sum();
    let idle = ticks.get(3)? + ticks.get(4)?;
    Some((total - idle, total))
}

/// Resets the peak to the current RSS, so each scenario reports its own peak. Needs the right
/// to write /proc/PID/clear_refs (the process's owner or root); returns whether it worked.
pub fn reset_peak_rss(pid: u32) -> bool {
    fs::write(format!("/proc/{pid}/clear_refs"), "5").is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_listening_sockets_and_memory_fields() {
        let table = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4242 1 0000000000000000 100 0 0 10 0
   1: 0100007F:1F90 0100007F:C350 01 00000000:00000000 00:00000000 00000000     0        0 4343 1 0000000000000000 20 4 30 10 -1";
        assert_eq!(listening_inodes(table, 8080), vec!["4242".to_owned()]);
        assert!(listening_inodes(table, 8081).is_empty());
        let status =
            "Name:\thearth\nVmPeak:\t  200000 kB\nVmHWM:\t   51234 kB\nVmRSS:\t 40000 kB\n";
        assert_eq!(status_field_kib(status, "VmHWM:"), Some(51_234));
    }

    #[test]
    fn this_process_has_a_peak_and_cpu_time() {
        assert!(peak_rss_kib(std::process::id()).unwrap() > 0);
        assert!(cpu_seconds(std::process::id()).is_some());
        let stat = "4242 (hearth serve) S 1 2 3 4 5 6 7 8 9 10 1500 250 0 0 20 0 4";
        assert_eq!(cpu_ticks(stat), Some(1_750));
        let cpu = "cpu  100 0 50 800 50 0 0 0 0 0";
        assert_eq!(machine_ticks(cpu), Some((150, 1_000)));
        assert!(machine_cpu_seconds().is_some());
    }
}
