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

use clap::Parser;

use crate::env::ChildEnv;
use crate::error::{Result, XtaskError};
use crate::process::{fmt_duration, output, print_timings, run, run_cargo, succeeds};
use crate::system::{ensure_packages, HostProbe};
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

/// Options of `cargo xtask slurm-check`.
#[derive(Debug, Parser)]
pub struct SlurmCheckArgs {
    /// Run the release build of nao (default: the dev build the tests use).
    #[arg(long, conflicts_with = "nao")]
    pub release: bool,
    /// Run this nao binary instead of building one (`cargo xtask ci` passes the one its tests
    /// built).
    #[arg(long, value_name = "PATH")]
    pub nao: Option<PathBuf>,
    /// Array tasks (shards).
    #[arg(long, default_value_t = 4)]
    pub tasks: usize,
    /// Images per class.
    #[arg(long, default_value_t = 24)]
    pub per_class: usize,
    /// DDIM steps of inversion and sampling.
    #[arg(long, default_value_t = 10)]
    pub steps: usize,
    /// Give up waiting for the jobs after this many seconds.
    #[arg(long, default_value_t = 600)]
    pub timeout: u64,
}

impl SlurmCheckArgs {
    /// The check as `cargo xtask ci` runs it: the defaults, with the `nao` its tests built.
    pub fn with_binary(nao: PathBuf) -> Self {
        Self::parse_from(["slurm-check".into(), "--nao".into(), nao.into_os_string()])
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
    ensure_packages(&HostProbe, &PACKAGES)?;
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
            let profile = if args.release { "release" } else { "debug" };
            ws.target_dir.join(profile).join("nao")
        }
    };
    step("build nao", t);

    let work = ws.target_dir.join("slurm-check");
    if work.exists() {
        std::fs::remove_dir_all(&work).map_err(|e| XtaskError::io(&work, e))?;
    }
    let dirs = Dirs::new(&work);
    for d in [&dirs.state(), &dirs.spool(), &dirs.logs] {
        std::fs::create_dir_all(d).map_err(|e| XtaskError::io(d, e))?;
    }
    let real = root.join(REAL_DIR);
    let (per_class, steps) = (args.per_class.to_string(), args.steps.to_string());

    let t = Instant::now();
    let single = work.join("single");
    let mut cmd = Command::new(&nao);
    cmd.arg("augment").arg(&real).arg("-o").arg(&single);
    cmd.args(["--per-class", &per_class, "--steps", &steps]);
    run(&mut cmd, "the single-process run")?;
    step("single-process run", t);

    let t = Instant::now();
    let mut cluster = Cluster::start(&dirs)?;
    step("cluster start", t);

    let t = Instant::now();
    let sharded = work.join("array");
    let env = cluster.env().with("NAO", &nao).with("REAL_DIR", &real);
    let env = env.with("OUT_DIR", &sharded).with("PER_CLASS", per_class);
    let env = env.with("NAO_ARGS", format!("--steps {steps}"));
    let (logs, chdir) = (dirs.logs.display(), format!("--chdir={}", work.display()));
    let array = cluster.submit(
        &env,
        &[
            format!("--array=0-{}", args.tasks - 1),
            format!("--output={logs}/task-%a.out"),
            chdir.clone(),
            root.join(SBATCH_SCRIPT).display().to_string(),
        ],
    )?;
    let merge = cluster.submit(
        &env,
        &[
            format!("--dependency=afterok:{array}"),
            "--kill-on-invalid-dep=yes".into(),
            format!("--output={logs}/merge.out"),
            chdir,
            format!(
                "--wrap=exec '{}' augment merge '{}'",
                nao.display(),
                sharded.display()
            ),
        ],
    )?;
    let jobs = [array.as_str(), merge.as_str()];
    if let Err(e) = cluster.wait(&jobs, Duration::from_secs(args.timeout)) {
        // the jobs' processes outlive slurmd: end them before the daemons
        cluster.cancel(&jobs);
        return Err(e);
    }
    step("array job and merge job", t);
    let states = cluster.states(&jobs)?;
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
    eprintln!(
        "\nxtask slurm-check: the {}-task array job and its merge made a dataset identical to \
         the single-process run ({} files, {} images)",
        args.tasks,
        dataset_files(&single)?.len(),
        2 * args.per_class
    );
    print_timings(&timings, total);
    Ok(())
}

/// The folders of one check: the cluster's (configuration, state, spool, daemons' pid files,
/// logs and munge's key and socket) and the jobs' logs.
struct Dirs {
    cluster: PathBuf,
    logs: PathBuf,
}

impl Dirs {
    fn new(work: &Path) -> Self {
        let (cluster, logs) = (work.join("cluster"), work.join("logs"));
        Self { cluster, logs }
    }

    fn state(&self) -> PathBuf {
        self.cluster.join("state")
    }

    fn spool(&self) -> PathBuf {
        self.cluster.join("spool")
    }

    fn conf(&self) -> PathBuf {
        self.cluster.join("slurm.conf")
    }

    fn socket(&self) -> PathBuf {
        self.cluster.join("munge.socket")
    }
}

/// The cluster's configuration: one node (this machine, `cpus` CPUs), no control groups (its
/// processes are tracked through /proc, its tasks not bound to CPUs), no accounting, its own
/// ports, state and logs under `dirs.cluster`; finished jobs stay visible to scontrol long
/// enough to read their states (`MinJobAge`).
fn slurm_conf(dirs: &Dirs, cpus: usize) -> String {
    let (c, socket) = (dirs.cluster.display(), dirs.socket());
    let (state, spool) = (dirs.state(), dirs.spool());
    format!(
        "ClusterName=naocheck
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort={CTLD_PORT}
SlurmdPort={SLURMD_PORT}
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket={}
SlurmUser=root
SlurmdUser=root
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
MpiDefault=none
ReturnToService=2
MinJobAge=600
StateSaveLocation={}
SlurmdSpoolDir={}
SlurmctldPidFile={c}/slurmctld.pid
SlurmdPidFile={c}/slurmd.pid
SlurmctldLogFile={c}/slurmctld.log
SlurmdLogFile={c}/slurmd.log
NodeName=localhost NodeAddr=127.0.0.1 CPUs={cpus} State=UNKNOWN
PartitionName=check Nodes=localhost Default=YES MaxTime=INFINITE State=UP
",
        socket.display(),
        state.display(),
        spool.display()
    )
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
        let c = &dirs.cluster;
        let key = c.join("munge.key");
        write_key(&key)?;
        let mut cluster = Cluster {
            dirs,
            pid_files: Vec::new(),
        };
        let file = |name: &str| format!("{}", c.join(name).display());
        let mut munged = Command::new("munged");
        // root owns the key and the folder; --force accepts running as root
        munged
            .arg("--force")
            .arg(format!("--key-file={}", key.display()));
        munged.arg(format!("--socket={}", dirs.socket().display()));
        munged.arg(format!("--pid-file={}", file("munged.pid")));
        munged.arg(format!("--log-file={}", file("munged.log")));
        munged.arg(format!("--seed-file={}", file("munged.seed")));
        cluster.pid_files.push(c.join("munged.pid"));
        run(&mut munged, "starting munged")?;
        let socket = dirs.socket();
        wait_for(Duration::from_secs(10), "munged's socket", || {
            socket.exists()
        })?;

        cluster.pid_files.push(c.join("slurmctld.pid"));
        run(
            Command::new("slurmctld").arg("-f").arg(&conf),
            "starting slurmctld",
        )?;
        cluster.pid_files.push(c.join("slurmd.pid"));
        let mut slurmd = Command::new("slurmd");
        slurmd.arg("-f").arg(&conf).args(["-N", "localhost"]);
        run(&mut slurmd, "starting slurmd")?;
        let env = cluster.env();
        let ready = wait_for(Duration::from_secs(60), "the node to be idle", || {
            let mut sinfo = Command::new("sinfo");
            env.apply(&mut sinfo).args(["-h", "-N", "-o", "%t"]);
            let out = sinfo.output();
            out.is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "idle")
        });
        if let Err(e) = ready {
            let logs = log_tails(&[c.join("slurmctld.log"), c.join("slurmd.log")]);
            return Err(XtaskError::Check(format!("{e}\n{logs}")));
        }
        Ok(cluster)
    }

    /// The environment of SLURM's clients: this cluster's configuration.
    fn env(&self) -> ChildEnv {
        ChildEnv::new().with("SLURM_CONF", self.dirs.conf())
    }

    /// A SLURM client command of this cluster.
    fn client(&self, program: &str) -> Command {
        let mut cmd = Command::new(program);
        self.env().apply(&mut cmd);
        cmd
    }

    /// Submit a job (`sbatch ARGS`, with `env`); its id.
    fn submit(&self, env: &ChildEnv, args: &[String]) -> Result<String> {
        let mut sbatch = Command::new("sbatch");
        env.apply(&mut sbatch).arg("--parsable").args(args);
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
    fn wait(&self, ids: &[&str], timeout: Duration) -> Result<()> {
        let list = ids.join(",");
        wait_for(timeout, "the jobs to finish", || {
            let mut squeue = self.client("squeue");
            let out = squeue.args(["-h", "-o", "%i", "-j", &list]).output();
            out.is_ok_and(|o| o.status.success() && o.stdout.trim_ascii().is_empty())
        })
    }

    /// Cancel the jobs and wait (30 s at most) until SLURM has ended them.
    fn cancel(&self, ids: &[&str]) {
        let cancelled = succeeds(self.client("scancel").args(ids));
        if !cancelled || self.wait(ids, Duration::from_secs(30)).is_err() {
            eprintln!("xtask: could not cancel jobs {ids:?}; their processes may still run");
        }
    }

    /// `scontrol show job -o` of the jobs, one line per job or array task.
    fn states(&self, ids: &[&str]) -> Result<Vec<JobState>> {
        let mut all = Vec::new();
        for id in ids {
            let mut scontrol = self.client("scontrol");
            scontrol.args(["show", "job", "-o", id]);
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
            let (pid_arg, alive) = (pid.to_string(), || {
                Path::new(&format!("/proc/{pid}")).exists()
            });
            succeeds(Command::new("kill").args(["-TERM", &pid_arg]));
            if wait_for(Duration::from_secs(10), "a daemon to stop", || !alive()).is_err() {
                succeeds(Command::new("kill").args(["-KILL", &pid_arg]));
            }
            let name = pid_file.file_stem().unwrap_or_default().to_string_lossy();
            eprintln!("stopped {name} (pid {pid})");
        }
    }
}

impl Drop for Cluster<'_> {
    fn drop(&mut self) {
        self.stop();
    }
}

/// munge's key: 1024 random bytes, readable by root only.
fn write_key(path: &Path) -> Result<()> {
    use std::io::{Read, Write};
    use std::os::unix::fs::OpenOptionsExt;
    let mut key = vec![0u8; 1024];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut key))
        .map_err(|e| XtaskError::io("/dev/urandom", e))?;
    let mut file = std::fs::OpenOptions::new();
    file.write(true).create_new(true).mode(0o600);
    file.open(path)
        .and_then(|mut f| f.write_all(&key))
        .map_err(|e| XtaskError::io(path, e))
}

/// Poll `ready` every 200 ms until it holds, or fail after `timeout` naming `what`.
fn wait_for(timeout: Duration, what: &str, mut ready: impl FnMut() -> bool) -> Result<()> {
    let start = Instant::now();
    while !ready() {
        if start.elapsed() > timeout {
            let after = fmt_duration(timeout);
            return Err(XtaskError::Check(format!(
                "gave up waiting for {what} after {after}"
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
    let jobs = text.lines().filter(|l| !l.trim().is_empty());
    jobs.map(|line| {
        let field = |name: &str| {
            let mut fields = line.split_whitespace();
            fields.find_map(|kv| Some(kv.strip_prefix(name)?.strip_prefix('=')?.to_string()))
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
    let failed: Vec<String> = states
        .iter()
        .filter(|s| s.state != "COMPLETED" || s.exit_code != "0:0")
        .map(|s| {
            let task = s
                .task
                .as_ref()
                .map(|t| format!(" task {t}"))
                .unwrap_or_default();
            format!("job {}{task} {} (exit {})", s.id, s.state, s.exit_code)
        })
        .collect();
    if failed.is_empty() && states.len() == expected {
        return Ok(());
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(logs)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    files.sort();
    Err(XtaskError::Check(format!(
        "{} job(s) reported, {expected} expected; not completed: {}\n{}",
        states.len(),
        failed.join(", "),
        log_tails(&files)
    )))
}

/// The last lines of each file, for an error message.
fn log_tails(files: &[PathBuf]) -> String {
    let mut s = String::new();
    for f in files {
        let text = std::fs::read_to_string(f).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let tail = lines[lines.len().saturating_sub(15)..].join("\n");
        let _ = writeln!(s, "--- {} (last lines)\n{tail}", f.display());
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
                continue;
            }
            let rel = path.strip_prefix(root).unwrap_or(&path).to_path_buf();
            let name = rel.to_string_lossy();
            if !name.starts_with("manifest.shard-") && name != ".nao-augment.lock" {
                out.push(rel);
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
    for (x, y, dir) in [(&fa, &fb, a), (&fb, &fa, b)] {
        let only = x.iter().filter(|f| !y.contains(f));
        out.extend(only.map(|f| format!("{} is only in {}", f.display(), dir.display())));
    }
    for f in fa.iter().filter(|f| fb.contains(f)) {
        let read = |p: PathBuf| std::fs::read(&p).map_err(|e| XtaskError::io(&p, e));
        if read(a.join(f))? != read(b.join(f))? {
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
}
