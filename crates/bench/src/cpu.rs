//! Where the machine's CPU went during a measuring window, from `/proc`: per process group
//! (the server, its PostgreSQL cluster, the load generator), what nobody named used
//! ("other": kernel work outside those processes, other tenants of the machine), and what
//! stayed idle. Both sides of every ratio are in clock ticks, so the tick length cancels.

use std::fs;

use anyhow::{Context, Result};

/// Processes counted together.
#[derive(Debug, Clone)]
pub enum Group {
    /// One process by id.
    Pid { label: String, pid: u32 },
    /// A process and its direct children (a PostgreSQL postmaster and its backends; other
    /// clusters on the machine are not counted).
    Tree { label: String, root: u32 },
}

impl Group {
    fn label(&self) -> &str {
        match self {
            Self::Pid { label, .. } | Self::Tree { label, .. } => label,
        }
    }
}

#[derive(Debug, Clone)]
pub struct CpuSample {
    cpus: usize,
    total: u64,
    idle: u64,
    groups: Vec<(String, u64)>,
}

impl CpuSample {
    pub fn take(groups: &[Group]) -> Result<Self> {
        let stat = fs::read_to_string("/proc/stat").context("reading /proc/stat")?;
        let mut lines = stat.lines();
        let fields: Vec<u64> = lines
            .next()
            .context("empty /proc/stat")?
            .split_whitespace()
            .skip(1)
            .filter_map(|f| f.parse().ok())
            .collect();
        // user nice system idle iowait irq softirq steal (guest time is inside user).
        let total = fields.iter().take(8).sum();
        let idle = fields.get(3).copied().unwrap_or(0) + fields.get(4).copied().unwrap_or(0);
        let cpus = lines
            .filter(|l| l.starts_with("cpu") && l.as_bytes().get(3).is_some_and(u8::is_ascii_digit))
            .count()
            .max(1);
        let processes = if groups.iter().any(|g| matches!(g, Group::Tree { .. })) {
            all_processes()
        } else {
            Vec::new()
        };
        let groups = groups
            .iter()
            .map(|group| {
                let ticks = match group {
                    Group::Pid { pid, .. } => process_ticks(*pid).map_or(0, |p| p.ticks),
                    Group::Tree { root, .. } => processes
                        .iter()
                        .filter(|p| p.pid == *root || p.ppid == *root)
                        .map(|p| p.ticks)
                        .sum(),
                };
                (group.label().to_owned(), ticks)
            })
            .collect();
        Ok(Self {
            cpus,
            total,
            idle,
            groups,
        })
    }

    /// Cores used per group between `self` and `later`, then "other", and the idle cores.
    pub fn usage_until(&self, later: &Self) -> (Vec<(String, f64)>, f64) {
        let total = later.total.saturating_sub(self.total).max(1) as f64;
        let cores = |ticks: u64| ticks as f64 / total * self.cpus as f64;
        let idle = cores(later.idle.saturating_sub(self.idle));
        let mut usage: Vec<(String, f64)> = self
            .groups
            .iter()
            .zip(&later.groups)
            .map(|((label, before), (_, after))| {
                (label.clone(), cores(after.saturating_sub(*before)))
            })
            .collect();
        let named: f64 = usage.iter().map(|(_, c)| c).sum();
        let busy = self.cpus as f64 - idle;
        usage.push(("other".to_owned(), (busy - named).max(0.0)));
        (usage, idle)
    }
}

struct Process {
    pid: u32,
    ppid: u32,
    /// utime + stime
    ticks: u64,
}

fn process_ticks(pid: u32) -> Option<Process> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name in parentheses may hold anything; the fields after it do not.
    let close = stat.rfind(')')?;
    // After ") " come state (field 3), ppid (4), …, utime (14) and stime (15).
    let rest: Vec<&str> = stat.get(close + 2..)?.split_whitespace().collect();
    let ppid: u32 = rest.get(1)?.parse().ok()?;
    let utime: u64 = rest.get(11)?.parse().ok()?;
    let stime: u64 = rest.get(12)?.parse().ok()?;
    Some(Process {
        pid,
        ppid,
        ticks: utime + stime,
    })
}

fn all_processes() -> Vec<Process> {
    let Ok(entries) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(process_ticks)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn our_own_process_is_found_and_usage_is_sane() {
        let me = std::process::id();
        let process = process_ticks(me).expect("our own /proc entry");
        assert_eq!(process.pid, me);
        assert!(process.ppid > 0);
        let groups = [Group::Pid {
            label: "me".into(),
            pid: me,
        }];
        let before = CpuSample::take(&groups).unwrap();
        let mut x = 0u64;
        for i in 0..5_000_000u64 {
            x = x.wrapping_mul(31).wrapping_add(i);
        }
        std::hint::black_box(x);
        let after = CpuSample::take(&groups).unwrap();
        let (usage, idle) = before.usage_until(&after);
        assert_eq!(usage.len(), 2, "the group and \"other\"");
        for (label, cores) in &usage {
            assert!(cores.is_finite() && *cores >= 0.0, "{label}: {cores}");
        }
        assert!((0.0..=before.cpus as f64 + 0.01).contains(&idle), "{idle}");
    }
}
