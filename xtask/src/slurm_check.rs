//! `cargo xtask slurm-check`: `nao augment` on a real SLURM cluster of one node, checked byte for
//! byte against a single-process run.
//!
//! 1. Debian's `slurm-wlm` and `munge` are installed when missing (as root, or through
//!    passwordless sudo; otherwise the one `apt-get` line to run).
//! 2. `cargo build -p nao-cli --bin nao` (`--release`: the release build).
//! 3. A single process makes the reference dataset: `nao augment REAL_DIR -o single …`.
//! 4. A private cluster starts in `<target>/slurm-check/cluster/`: munged on its own key and
//!    socket, then slurmctld and slurmd (one node, localhost, no cgroups:
//!    `ProctrackType=proctrack/linuxproc`, `TaskPlugin=task/none`) on their own ports, with
//!    `SLURM_CONF` pointing every client at its configuration. Nothing in /etc is touched.
//! 5. docs/examples/augment.sbatch runs as a job array (`--array=0-3`, `--shard auto`), and
//!    `nao augment merge` as a job that depends on it (`--dependency=afterok`), exactly as the
//!    example's comment says to.
//! 6. Every file of the merged dataset (images, manifest.jsonl, run.json, seeds/) must equal
//!    the single run's, byte for byte.
//! 7. The daemons it started are stopped (by the pids in their pid files), whatever happened;
//!    jobs still running when it gives up are cancelled first.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use clap::Args;

use crate::env::ChildEnv;
use crate::error::{Result, XtaskError};
use crate::process::{fmt_duration, output, run, run_cargo, succeeds};
use crate::system::{install_commands, HostProbe, Probe, Via};
use crate::workspace::Workspace;

/// Debian's packages of the cluster.
pub const PACKAGES: [&str; 2] = ["slurm-wlm", "munge"];

/// The real images of the check (two classes of the embedded model's held-out images).
const REAL_DIR: &str = "crates/nao-cli/tests/data/augment-real";
/// The job script, the one the documentation gives.
const SBATCH_SCRIPT: &str = "docs/examples/augment.sbatch";
/// Ports of this cluster, off SLURM's defaults (6817, 6818) so a real cluster on the machine
/// is left alone.
const CTLD_PORT: u16 = 16817;
const SLURMD_PORT: u16 = 16818;

const DEFAULT_TASKS: usize = 4;
const DEFAULT_PER_CLASS: usize = 24;
const DEFAULT_STEPS: usize = 10;
const DEFAULT_TIMEOUT: u64 = 600;

/// Options of `cargo xtask slurm-check`.
#[derive(Debug, Args)]
pub struct SlurmCheckArgs {
    /// Run the release build of nao (default: the dev build the tests use).
    #[arg(long, conflicts_with = "nao")]
    pub release: bool,
    /// Run this nao binary instead of building one (`cargo xtask ci` passes the one its tests
    /// built).
    #[arg(long, value_name = "PATH")]
    pub nao: Option<PathBuf>,
    /// Array tasks (shards).
    #[arg(long, default_value_t = DEFAULT_TASKS)]
    pub tasks: usize,
    /// Images per class.
    #[arg(long, default_value_t = DEFAULT_PER_CLASS)]
    pub per_class: usize,
    /// DDIM steps of inversion and sampling.
    #[arg(long, default_value_t = DEFAULT_STEPS)]
    pub steps: usize,
    /// Give up waiting for the jobs after this many seconds.
    #[arg(long, default_value_t = DEFAULT_TIMEOUT)]
    pub timeout: u64,
}

impl SlurmCheckArgs {
    /// The check as `cargo xtask ci` runs it: the defaults, with the `nao` its tests built.
    pub fn with_binary(nao: PathBuf) -> Self {
        Self {
            release: false,
            nao: Some(nao),
            tasks: DEFAULT_TASKS,
            per_class: DEFAULT_PER_CLASS,
            steps: DEFAULT_STEPS,
            timeout: DEFAULT_TIMEOUT,
        }
    }
}

/// Run the check.
pub fn command(root: &Path, args: &SlurmCheckArgs) -> Result<()> {
    if args.tasks == 0 || args.per_class == 0 || args.steps == 0 {
        return Err(XtaskError::Usage(
            "--tasks, --per-class and --steps must be at least 1".into(),
        ));
    }
    let total = Instant::now();
    let mut timings: Vec<(&str, Duration)> = Vec::new();
    let mut step = |name: &'static str, started: Instant| timings.push((name, started.elapsed()));

    let t = Instant::now();
    ensure_packages(&HostProbe)?;
    step("packages", t);

    let t = Instant::now();
    let ws = Workspace::load(root)?;
    let nao = match &args.nao {
        Some(p) if p.is_file() => p.clone(),
        Some(p) => {
            return Err(XtaskError::Usage(format!(
                "--nao {}: no such file",
                p.display()
            )))
        }
        None => {
            let mut build = vec!["build", "-p", "nao-cli", "--bin", "nao"];
            if args.release {
                build.push("--release");
            }
            run_cargo(root, &ChildEnv::new(), &build)?;
            ws.target_dir
                .join(if args.release { "release" } else { "debug" })
                .join("nao")
        }
    };
    step("build nao", t);

    let work = ws.target_dir.join("slurm-check");
    if work.exists() {
        std::fs::remove_dir_all(&work).map_err(|e| XtaskError::io(&work, e))?;
    }
    let dirs = Dirs::new(&work);
    for d in [&dirs.cluster, &dirs.state, &dirs.spool, &dirs.logs] {
        std::fs::create_dir_all(d).map_err(|e| XtaskError::io(d, e))?;
    }
    let real = root.join(REAL_DIR);
    let options = [
        "--per-class".to_string(),
        args.per_class.to_string(),
        "--steps".into(),
        args.steps.to_string(),
    ];

    let t = Instant::now();
    let single = work.join("single");
    let mut cmd = Command::new(&nao);
    cmd.arg("augment")
        .arg(&real)
        .arg("-o")
        .arg(&single)
        .args(&options);
    run(&mut cmd, "the single-process run")?;
    step("single-process run", t);

    let t = Instant::now();
    let mut cluster = Cluster::start(&dirs)?;
    step("cluster start", t);

    let t = Instant::now();
    let sharded = work.join("array");
    let env = cluster
        .env()
        .with("NAO", &nao)
        .with("REAL_DIR", &real)
        .with("OUT_DIR", &sharded);
    let env = env
        .with("PER_CLASS", args.per_class.to_string())
        .with("NAO_ARGS", format!("--steps {}", args.steps));
    let array = cluster.submit(
        &env,
        &[
            format!("--array=0-{}", args.tasks - 1),
            format!("--output={}/task-%a.out", dirs.logs.display()),
            format!("--chdir={}", work.display()),
        ],
        Submission::Script(&root.join(SBATCH_SCRIPT)),
    )?;
    let merge = cluster.submit(
        &env,
        &[
            format!("--dependency=afterok:{array}"),
            "--kill-on-invalid-dep=yes".into(),
            format!("--output={}/merge.out", dirs.logs.display()),
            format!("--chdir={}", work.display()),
        ],
        Submission::Wrap(&format!(
            "exec '{}' augment merge '{}'",
            nao.display(),
            sharded.display()
        )),
    )?;
    if let Err(e) = cluster.wait(&[&array, &merge], Duration::from_secs(args.timeout)) {
        // the jobs' processes outlive slurmd: end them before the daemons
        cluster.cancel(&[&array, &merge]);
        return Err(e);
    }
    step("array job and merge job", t);
    let states = cluster.states(&[&array, &merge])?;
    cluster.stop();
    check_states(&states, args.tasks + 1, &dirs.logs)?;

    let t = Instant::now();
    let differences = compare_datasets(&single, &sharded)?;
    step("comparison", t);
    if !differences.is_empty() {
        return Err(XtaskError::Check(format!(
            "the SLURM array's dataset differs from the single-process run's:\n  {}",
            differences.join("\n  ")
        )));
    }
    let files = dataset_files(&single)?.len();
    eprintln!(
        "\nxtask slurm-check: the {}-task array job and its merge made a dataset identical to \
         the single-process run ({files} files, {} images)",
        args.tasks,
        2 * args.per_class
    );
    for (name, took) in &timings {
        eprintln!("  {:>9}  {name}", fmt_duration(*took));
    }
    eprintln!("  {:>9}  total", fmt_duration(total.elapsed()));
    Ok(())
}

/// Install the cluster's packages when they are missing.
fn ensure_packages(probe: &dyn Probe) -> Result<()> {
    let missing: Vec<&str> = PACKAGES
        .into_iter()
        .filter(|p| !probe.package_installed(p))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    if !probe.has_dpkg() {
        return Err(XtaskError::Provision(format!(
            "slurm-check needs SLURM and munge ({}), and installs them only with apt",
            PACKAGES.join(", ")
        )));
    }
    let via = if probe.is_root() {
        Via::Root
    } else if probe.passwordless_sudo() {
        Via::Sudo
    } else {
        return Err(XtaskError::Provision(format!(
            "missing {}; run `sudo apt-get install -y {}` first",
            missing.join(", "),
            missing.join(" ")
        )));
    };
    eprintln!("installing {}", missing.join(", "));
    let [mut update, mut install] = install_commands(&missing, via);
    if let Err(e) = run(&mut update, "updating apt's package lists") {
        eprintln!("xtask: {e}; installing from the current package lists");
    }
    run(&mut install, "installing SLURM and munge")
}

/// The folders of one check.
struct Dirs {
    cluster: PathBuf,
    state: PathBuf,
    spool: PathBuf,
    logs: PathBuf,
}

impl Dirs {
    fn new(work: &Path) -> Self {
        let cluster = work.join("cluster");
        Self {
            state: cluster.join("state"),
            spool: cluster.join("spool"),
            logs: work.join("logs"),
            cluster,
        }
    }

    fn conf(&self) -> PathBuf {
        self.cluster.join("slurm.conf")
    }

    fn socket(&self) -> PathBuf {
        self.cluster.join("munge.socket")
    }
}

/// The cluster's configuration: one node (this machine, `cpus` CPUs), no cgroups, no
/// accounting, its own ports, state and logs under `dirs.cluster`.
fn slurm_conf(dirs: &Dirs, cpus: usize) -> String {
    let c = dirs.cluster.display();
    let mut s = String::new();
    let lines = [
        "ClusterName=naocheck".to_string(),
        "SlurmctldHost=localhost(127.0.0.1)".into(),
        format!("SlurmctldPort={CTLD_PORT}"),
        format!("SlurmdPort={SLURMD_PORT}"),
        "AuthType=auth/munge".into(),
        "CredType=cred/munge".into(),
        format!("AuthInfo=socket={}", dirs.socket().display()),
        "SlurmUser=root".into(),
        "SlurmdUser=root".into(),
        // no cgroups: processes are tracked through /proc, tasks are not bound to CPUs
        "ProctrackType=proctrack/linuxproc".into(),
        "TaskPlugin=task/none".into(),
        "JobAcctGatherType=jobacct_gather/none".into(),
        "AccountingStorageType=accounting_storage/none".into(),
        "SchedulerType=sched/builtin".into(),
        "SelectType=select/cons_tres".into(),
        "SelectTypeParameters=CR_CPU".into(),
        "MpiDefault=none".into(),
        "ReturnToService=2".into(),
        // keep finished jobs visible to scontrol long enough to read their states
        "MinJobAge=600".into(),
        format!("StateSaveLocation={}", dirs.state.display()),
        format!("SlurmdSpoolDir={}", dirs.spool.display()),
        format!("SlurmctldPidFile={c}/slurmctld.pid"),
        format!("SlurmdPidFile={c}/slurmd.pid"),
        format!("SlurmctldLogFile={c}/slurmctld.log"),
        format!("SlurmdLogFile={c}/slurmd.log"),
        format!("NodeName=localhost NodeAddr=127.0.0.1 CPUs={cpus} State=UNKNOWN"),
        "PartitionName=check Nodes=localhost Default=YES MaxTime=INFINITE State=UP".into(),
    ];
    for l in lines {
        let _ = writeln!(s, "{l}");
    }
    s
}

/// What `sbatch` runs.
enum Submission<'a> {
    /// A job script.
    Script(&'a Path),
    /// A command line (`--wrap`).
    Wrap(&'a str),
}

/// The daemons of one check; dropping it stops them.
struct Cluster<'a> {
    dirs: &'a Dirs,
    /// Pid files of the daemons started, in start order.
    pid_files: Vec<PathBuf>,
}

impl<'a> Cluster<'a> {
    fn start(dirs: &'a Dirs) -> Result<Self> {
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        let conf = dirs.conf();
        std::fs::write(&conf, slurm_conf(dirs, cpus)).map_err(|e| XtaskError::io(&conf, e))?;
        let key = dirs.cluster.join("munge.key");
        write_key(&key)?;
        let mut cluster = Cluster {
            dirs,
            pid_files: Vec::new(),
        };
        let c = &dirs.cluster;
        let mut munged = Command::new("munged");
        munged
            // root owns the key and the folder; --force accepts running as root
            .arg("--force")
            .arg(format!("--key-file={}", key.display()))
            .arg(format!("--socket={}", dirs.socket().display()))
            .arg(format!("--pid-file={}", c.join("munged.pid").display()))
            .arg(format!("--log-file={}", c.join("munged.log").display()))
            .arg(format!("--seed-file={}", c.join("munged.seed").display()));
        cluster.pid_files.push(c.join("munged.pid"));
        run(&mut munged, "starting munged")?;
        wait_for(Duration::from_secs(10), "munged's socket", || {
            dirs.socket().exists()
        })?;

        cluster.pid_files.push(c.join("slurmctld.pid"));
        let mut ctld = Command::new("slurmctld");
        ctld.arg("-f").arg(&conf);
        run(&mut ctld, "starting slurmctld")?;
        cluster.pid_files.push(c.join("slurmd.pid"));
        let mut slurmd = Command::new("slurmd");
        slurmd.arg("-f").arg(&conf).args(["-N", "localhost"]);
        run(&mut slurmd, "starting slurmd")?;
        let env = cluster.env();
        let ready = wait_for(Duration::from_secs(60), "the node to be idle", || {
            let mut sinfo = Command::new("sinfo");
            env.apply(&mut sinfo).args(["-h", "-N", "-o", "%t"]);
            sinfo
                .output()
                .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "idle")
        });
        if let Err(e) = ready {
            return Err(XtaskError::Check(format!(
                "{e}\n{}",
                log_tails(&[c.join("slurmctld.log"), c.join("slurmd.log")])
            )));
        }
        Ok(cluster)
    }

    /// The environment of SLURM's clients: this cluster's configuration.
    fn env(&self) -> ChildEnv {
        ChildEnv::new().with("SLURM_CONF", self.dirs.conf())
    }

    /// Submit a job; its id.
    fn submit(&self, env: &ChildEnv, options: &[String], what: Submission<'_>) -> Result<String> {
        let mut sbatch = Command::new("sbatch");
        env.apply(&mut sbatch).arg("--parsable").args(options);
        match what {
            Submission::Script(p) => sbatch.arg(p),
            Submission::Wrap(line) => sbatch.arg(format!("--wrap={line}")),
        };
        let out = output(&mut sbatch, "submitting a job")?;
        // --parsable: "ID" or "ID;CLUSTER"
        let id = out.trim().split(';').next().unwrap_or("").to_string();
        if id.is_empty() || !id.chars().all(|c| c.is_ascii_digit()) {
            return Err(XtaskError::Parse {
                path: "sbatch --parsable".into(),
                message: format!("expected a job id, got {out:?}"),
            });
        }
        eprintln!("submitted job {id}");
        Ok(id)
    }

    /// Wait until no job of `ids` is pending or running.
    fn wait(&self, ids: &[&String], timeout: Duration) -> Result<()> {
        let env = self.env();
        let list = ids.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(",");
        wait_for(timeout, "the jobs to finish", || {
            let mut squeue = Command::new("squeue");
            env.apply(&mut squeue).args(["-h", "-o", "%i", "-j", &list]);
            squeue
                .output()
                .is_ok_and(|o| o.status.success() && o.stdout.trim_ascii().is_empty())
        })
    }

    /// Cancel the jobs and wait (30 s at most) until SLURM has ended them.
    fn cancel(&self, ids: &[&String]) {
        let mut scancel = Command::new("scancel");
        self.env()
            .apply(&mut scancel)
            .args(ids.iter().map(|s| s.as_str()));
        if !succeeds(&mut scancel) || self.wait(ids, Duration::from_secs(30)).is_err() {
            eprintln!("xtask: could not cancel jobs {ids:?}; their processes may still run");
        }
    }

    /// `scontrol show job -o` of the jobs, one line per job or array task.
    fn states(&self, ids: &[&String]) -> Result<Vec<JobState>> {
        let mut all = Vec::new();
        for id in ids {
            let mut scontrol = Command::new("scontrol");
            self.env()
                .apply(&mut scontrol)
                .args(["show", "job", "-o", id.as_str()]);
            all.extend(parse_jobs(&output(
                &mut scontrol,
                "reading the jobs' states",
            )?));
        }
        Ok(all)
    }

    /// Stop the daemons, last started first: SIGTERM, then SIGKILL after 10 s.
    fn stop(&mut self) {
        for pid_file in self.pid_files.drain(..).rev() {
            let Some(pid) = std::fs::read_to_string(&pid_file)
                .ok()
                .and_then(|t| t.trim().parse::<u32>().ok())
            else {
                continue; // it never started
            };
            let alive = || Path::new(&format!("/proc/{pid}")).exists();
            succeeds(Command::new("kill").args(["-TERM", &pid.to_string()]));
            if wait_for(Duration::from_secs(10), "a daemon to stop", || !alive()).is_err() {
                succeeds(Command::new("kill").args(["-KILL", &pid.to_string()]));
            }
            eprintln!("stopped {} (pid {pid})", daemon_name(&pid_file));
        }
    }
}

impl Drop for Cluster<'_> {
    fn drop(&mut self) {
        self.stop();
    }
}

fn daemon_name(pid_file: &Path) -> String {
    pid_file
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// munge's key: 1024 random bytes, readable by root only.
fn write_key(path: &Path) -> Result<()> {
    use std::io::{Read, Write};
    use std::os::unix::fs::OpenOptionsExt;
    let mut key = vec![0u8; 1024];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut key))
        .map_err(|e| XtaskError::io("/dev/urandom", e))?;
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .and_then(|mut f| f.write_all(&key))
        .map_err(|e| XtaskError::io(path, e))
}

/// Poll `ready` every 200 ms until it holds, or fail after `timeout` naming `what`.
fn wait_for(timeout: Duration, what: &str, mut ready: impl FnMut() -> bool) -> Result<()> {
    let start = Instant::now();
    while !ready() {
        if start.elapsed() > timeout {
            return Err(XtaskError::Check(format!(
                "gave up waiting for {what} after {}",
                fmt_duration(timeout)
            )));
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    Ok(())
}

/// One job or array task, as `scontrol show job -o` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct JobState {
    id: String,
    task: Option<String>,
    state: String,
    exit_code: String,
}

fn parse_jobs(text: &str) -> Vec<JobState> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let field = |name: &str| {
                line.split_whitespace()
                    .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))
                    .map(str::to_string)
            };
            JobState {
                id: field("JobId").unwrap_or_default(),
                task: field("ArrayTaskId"),
                state: field("JobState").unwrap_or_default(),
                exit_code: field("ExitCode").unwrap_or_default(),
            }
        })
        .collect()
}

/// Every job must have completed with exit code 0; otherwise the failures with their logs.
fn check_states(states: &[JobState], expected: usize, logs: &Path) -> Result<()> {
    let failed: Vec<&JobState> = states
        .iter()
        .filter(|s| s.state != "COMPLETED" || s.exit_code != "0:0")
        .collect();
    if failed.is_empty() && states.len() == expected {
        return Ok(());
    }
    let mut message = format!(
        "{} job(s) reported, {expected} expected; not completed: {}",
        states.len(),
        failed
            .iter()
            .map(|s| format!(
                "job {}{} {} (exit {})",
                s.id,
                s.task
                    .as_ref()
                    .map(|t| format!(" task {t}"))
                    .unwrap_or_default(),
                s.state,
                s.exit_code
            ))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let mut files: Vec<PathBuf> = std::fs::read_dir(logs)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    files.sort();
    message.push('\n');
    message.push_str(&log_tails(&files));
    Err(XtaskError::Check(message))
}

/// The last lines of each file, for an error message.
fn log_tails(files: &[PathBuf]) -> String {
    let mut s = String::new();
    for f in files {
        let text = std::fs::read_to_string(f).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let tail = &lines[lines.len().saturating_sub(15)..];
        let _ = writeln!(s, "--- {} (last lines)\n{}", f.display(), tail.join("\n"));
    }
    s
}

/// The files a dataset consists of, relative to its folder: everything but the shards' own
/// manifests (which a single run and an array split differently) and the lock file.
fn dataset_files(dir: &Path) -> Result<Vec<PathBuf>> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
        for entry in std::fs::read_dir(dir).map_err(|e| XtaskError::io(dir, e))? {
            let path = entry.map_err(|e| XtaskError::io(dir, e))?.path();
            if path.is_dir() {
                walk(root, &path, out)?;
            } else {
                let rel = path.strip_prefix(root).unwrap_or(&path).to_path_buf();
                let name = rel.to_string_lossy();
                if !name.starts_with("manifest.shard-") && name != ".nao-augment.lock" {
                    out.push(rel);
                }
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out)?;
    out.sort();
    Ok(out)
}

/// How two datasets differ, one line per file (empty: byte-identical).
fn compare_datasets(a: &Path, b: &Path) -> Result<Vec<String>> {
    let (fa, fb) = (dataset_files(a)?, dataset_files(b)?);
    let mut out = Vec::new();
    for f in fa.iter().filter(|f| !fb.contains(f)) {
        out.push(format!("{} is only in {}", f.display(), a.display()));
    }
    for f in fb.iter().filter(|f| !fa.contains(f)) {
        out.push(format!("{} is only in {}", f.display(), b.display()));
    }
    for f in fa.iter().filter(|f| fb.contains(f)) {
        let (x, y) = (a.join(f), b.join(f));
        let bx = std::fs::read(&x).map_err(|e| XtaskError::io(&x, e))?;
        let by = std::fs::read(&y).map_err(|e| XtaskError::io(&y, e))?;
        if bx != by {
            out.push(format!("{} differs", f.display()));
        }
    }
    if !fa.iter().any(|f| f == Path::new("manifest.jsonl")) {
        out.push(format!("{} has no manifest.jsonl", a.display()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("xtask-slurm-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn the_configuration_is_a_private_cgroup_free_cluster() {
        let dirs = Dirs::new(Path::new("/w/slurm-check"));
        let conf = slurm_conf(&dirs, 2);
        for line in [
            "ProctrackType=proctrack/linuxproc",
            "TaskPlugin=task/none",
            "SlurmctldPort=16817",
            "AuthInfo=socket=/w/slurm-check/cluster/munge.socket",
            "StateSaveLocation=/w/slurm-check/cluster/state",
            "SlurmdPidFile=/w/slurm-check/cluster/slurmd.pid",
            "NodeName=localhost NodeAddr=127.0.0.1 CPUs=2 State=UNKNOWN",
        ] {
            assert!(
                conf.lines().any(|l| l == line),
                "{line} missing from\n{conf}"
            );
        }
        assert!(!conf.contains("cgroup"), "{conf}");
    }

    #[test]
    fn job_states_are_parsed_and_failures_named() {
        let text = "JobId=7 ArrayJobId=6 ArrayTaskId=1 JobName=nao-augment JobState=COMPLETED Reason=None ExitCode=0:0\n\
                    JobId=6 ArrayJobId=6 ArrayTaskId=0 JobState=FAILED Reason=NonZeroExitCode ExitCode=1:0\n\
                    JobId=8 JobName=wrap JobState=CANCELLED Reason=Dependency ExitCode=0:0\n";
        let states = parse_jobs(text);
        assert_eq!(
            states[0],
            JobState {
                id: "7".into(),
                task: Some("1".into()),
                state: "COMPLETED".into(),
                exit_code: "0:0".into()
            }
        );
        assert_eq!(states[2].task, None);
        let logs = temp("logs");
        std::fs::write(logs.join("task-0.out"), "nao: error: something\n").unwrap();
        let e = check_states(&states, 3, &logs).unwrap_err().to_string();
        assert!(e.contains("job 6 task 0 FAILED (exit 1:0)"), "{e}");
        assert!(e.contains("job 8 CANCELLED"), "{e}");
        assert!(e.contains("nao: error: something"), "{e}");
        assert!(check_states(&states[..1], 1, &logs).is_ok());
        assert!(
            check_states(&states[..1], 2, &logs).is_err(),
            "a job missing"
        );
        std::fs::remove_dir_all(logs).unwrap();
    }

    #[test]
    fn datasets_compare_byte_for_byte_without_the_shard_manifests() {
        let (a, b) = (temp("a"), temp("b"));
        for d in [&a, &b] {
            std::fs::create_dir_all(d.join("bag")).unwrap();
            std::fs::write(d.join("bag/000.png"), b"png").unwrap();
            std::fs::write(d.join("manifest.jsonl"), b"{}\n").unwrap();
        }
        std::fs::write(a.join("manifest.shard-0-of-1.jsonl"), b"x").unwrap();
        std::fs::write(b.join("manifest.shard-2-of-4.jsonl"), b"y").unwrap();
        std::fs::write(b.join(".nao-augment.lock"), b"").unwrap();
        assert_eq!(compare_datasets(&a, &b).unwrap(), Vec::<String>::new());
        std::fs::write(b.join("bag/000.png"), b"other").unwrap();
        std::fs::write(b.join("bag/001.png"), b"more").unwrap();
        let d = compare_datasets(&a, &b).unwrap();
        assert_eq!(
            d,
            [
                format!("bag/001.png is only in {}", b.display()),
                "bag/000.png differs".to_string()
            ]
        );
        std::fs::remove_dir_all(a).unwrap();
        std::fs::remove_dir_all(b).unwrap();
    }

    #[test]
    fn missing_packages_are_installed_or_asked_for() {
        struct Machine {
            root: bool,
            installed: bool,
        }
        impl Probe for Machine {
            fn is_root(&self) -> bool {
                self.root
            }
            fn passwordless_sudo(&self) -> bool {
                false
            }
            fn has_dpkg(&self) -> bool {
                true
            }
            fn package_installed(&self, _: &str) -> bool {
                self.installed
            }
            fn is_file(&self, _: &Path) -> bool {
                false
            }
            fn var(&self, _: &str) -> Option<std::ffi::OsString> {
                None
            }
        }
        assert!(ensure_packages(&Machine {
            root: false,
            installed: true
        })
        .is_ok());
        let e = ensure_packages(&Machine {
            root: false,
            installed: false,
        })
        .unwrap_err()
        .to_string();
        assert!(e.contains("sudo apt-get install -y slurm-wlm munge"), "{e}");
    }
}
