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

use std::collections::BTreeMap;
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
        let message = "--tasks, --per-class and --steps must be at least 1";
        return Err(XtaskError::Usage(message.into()));
    }
    let total = Instant::now();
    let (mut timings, mut last) = (Vec::new(), Instant::now());
    // the time since the last step
    let mut step = |name: &'static str| {
        timings.push((name, last.elapsed()));
        last = Instant::now();
    };

    ensure_packages(&HostProbe, &PACKAGES)?;
    step("packages");
    let ws = Workspace::load(root)?;
    let nao = match &args.nao {
        Some(p) if p.is_file() => p.clone(),
        Some(p) => {
            let message = format!("--nao {}: no such file", p.display());
            return Err(XtaskError::Usage(message));
        }
        None => {
            let profile = if args.release { "release" } else { "debug" };
            let mut build = vec!["build", "-p", "nao-cli", "--bin", "nao"];
            build.extend(args.release.then_some("--release"));
            run_cargo(root, &ChildEnv::new(), &build)?;
            ws.target_dir.join(profile).join("nao")
        }
    };
    step("build nao");

    let work = ws.target_dir.join("slurm-check");
    if work.exists() {
        std::fs::remove_dir_all(&work).map_err(|e| XtaskError::io(&work, e))?;
    }
    let (cluster_dir, logs) = (work.join("cluster"), work.join("logs"));
    let (state, spool) = (cluster_dir.join("state"), cluster_dir.join("spool"));
    for d in [&state, &spool, &logs] {
        std::fs::create_dir_all(d).map_err(|e| XtaskError::io(d, e))?;
    }
    let real = root.join(REAL_DIR);
    let (per_class, steps) = (args.per_class.to_string(), args.steps.to_string());
    let single = work.join("single");
    let mut cmd = Command::new(&nao);
    cmd.arg("augment").arg(&real).arg("-o").arg(&single);
    cmd.args(["--per-class", &per_class, "--steps", &steps]);
    run(&mut cmd, "the single-process run")?;
    step("single-process run");

    let mut cluster = Cluster::start(cluster_dir)?;
    step("cluster start");
    let sharded = work.join("array");
    let env = cluster.env().with("NAO", &nao).with("REAL_DIR", &real);
    let env = env.with("OUT_DIR", &sharded).with("PER_CLASS", per_class);
    let env = env.with("NAO_ARGS", format!("--steps {steps}"));
    let (logs_dir, chdir) = (logs.display(), format!("--chdir={}", work.display()));
    let array = cluster.submit(
        &env,
        &[
            format!("--array=0-{}", args.tasks - 1),
            format!("--output={logs_dir}/task-%a.out"),
            chdir.clone(),
            root.join(SBATCH_SCRIPT).display().to_string(),
        ],
    )?;
    let (nao_path, sharded_path) = (nao.display(), sharded.display());
    let merge = cluster.submit(
        &env,
        &[
            format!("--dependency=afterok:{array}"),
            "--kill-on-invalid-dep=yes".into(),
            format!("--output={logs_dir}/merge.out"),
            chdir,
            format!("--wrap=exec '{nao_path}' augment merge '{sharded_path}'"),
        ],
    )?;
    let jobs = [array.as_str(), merge.as_str()];
    if let Err(e) = cluster.wait(&jobs, Duration::from_secs(args.timeout)) {
        // the jobs' processes outlive slurmd: end them before the daemons
        cluster.cancel(&jobs);
        return Err(e);
    }
    step("array job and merge job");
    let states = cluster.states(&jobs)?;
    cluster.stop();
    step("cluster stop");
    check_states(&states, args.tasks + 1, &logs)?;

    let differences = compare_datasets(&single, &sharded)?;
    step("comparison");
    if !differences.is_empty() {
        let differences = differences.join("\n  ");
        let message = "the SLURM array's dataset differs from the single-process run's";
        return Err(XtaskError::Check(format!("{message}:\n  {differences}")));
    }
    let files = dataset_files(&single)?.len();
    let (tasks, images) = (args.tasks, 2 * args.per_class);
    eprintln!(
        "\nxtask slurm-check: the {tasks}-task array job and its merge made a dataset identical \
         to the single-process run ({files} files, {images} images)"
    );
    print_timings(&timings, total);
    Ok(())
}

/// The configuration of a cluster in `dir`: one node (this machine, `cpus` CPUs), no control
/// groups (its processes are tracked through /proc, its tasks not bound to CPUs), no
/// accounting, its own state and logs, and its own ports, off SLURM's defaults (6817, 6818) so
/// that a real cluster on the machine is left alone; finished jobs stay visible to scontrol
/// long enough to read their states (`MinJobAge`).
fn slurm_conf(dir: &Path, cpus: usize) -> String {
    let c = dir.display();
    format!(
        "ClusterName=naocheck
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort=16817
SlurmdPort=16818
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket={c}/munge.socket
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
StateSaveLocation={c}/state
SlurmdSpoolDir={c}/spool
SlurmctldPidFile={c}/slurmctld.pid
SlurmdPidFile={c}/slurmd.pid
SlurmctldLogFile={c}/slurmctld.log
SlurmdLogFile={c}/slurmd.log
NodeName=localhost NodeAddr=127.0.0.1 CPUs={cpus} State=UNKNOWN
PartitionName=check Nodes=localhost Default=YES MaxTime=INFINITE State=UP
"
    )
}

/// The daemons of one check, with their configuration, state, logs, pid files and munge's key
/// and socket in one folder; dropping it stops them.
struct Cluster {
    dir: PathBuf,
    /// Pid files of the daemons started, in start order.
    pid_files: Vec<PathBuf>,
}

impl Cluster {
    fn start(dir: PathBuf) -> Result<Self> {
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        let file = |name: &str| dir.join(name);
        let (conf, key, socket) = (file("slurm.conf"), file("munge.key"), file("munge.socket"));
        std::fs::write(&conf, slurm_conf(&dir, cpus)).map_err(|e| XtaskError::io(&conf, e))?;
        write_key(&key)?;
        let mut munged = Command::new("munged");
        // root owns the key and the folder; --force accepts running as root
        munged.args(["--force", &format!("--key-file={}", key.display())]);
        munged.arg(format!("--socket={}", socket.display()));
        munged.arg(format!("--pid-file={}", file("munged.pid").display()));
        munged.arg(format!("--log-file={}", file("munged.log").display()));
        munged.arg(format!("--seed-file={}", file("munged.seed").display()));
        let mut cluster = Cluster {
            dir: dir.clone(),
            pid_files: vec![file("munged.pid")],
        };
        run(&mut munged, "starting munged")?;
        let munged_up = || socket.exists();
        wait_for(Duration::from_secs(10), "munged's socket", munged_up)?;

        cluster.pid_files.push(file("slurmctld.pid"));
        let mut slurmctld = Command::new("slurmctld");
        run(slurmctld.arg("-f").arg(&conf), "starting slurmctld")?;
        cluster.pid_files.push(file("slurmd.pid"));
        let mut slurmd = Command::new("slurmd");
        slurmd.arg("-f").arg(&conf).args(["-N", "localhost"]);
        run(&mut slurmd, "starting slurmd")?;
        let ready = wait_for(Duration::from_secs(60), "the node to be idle", || {
            let mut sinfo = cluster.client("sinfo");
            let out = sinfo.args(["-h", "-N", "-o", "%t"]).output();
            out.is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "idle")
        });
        if let Err(e) = ready {
            let logs = log_tails(&[file("slurmctld.log"), file("slurmd.log")]);
            return Err(XtaskError::Check(format!("{e}\n{logs}")));
        }
        Ok(cluster)
    }

    /// The environment of SLURM's clients: this cluster's configuration.
    fn env(&self) -> ChildEnv {
        ChildEnv::new().with("SLURM_CONF", self.dir.join("slurm.conf"))
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
    fn states(&self, ids: &[&str]) -> Result<Vec<Job>> {
        let mut all = Vec::new();
        for id in ids {
            let mut scontrol = self.client("scontrol");
            scontrol.args(["show", "job", "-o", id]);
            let text = output(&mut scontrol, "reading the jobs' states")?;
            all.extend(parse_jobs(&text));
        }
        Ok(all)
    }

    /// Stop the daemons, last started first: SIGTERM, then SIGKILL after 10 s.
    fn stop(&mut self) {
        for pid_file in self.pid_files.drain(..).rev() {
            let pid = std::fs::read_to_string(&pid_file).unwrap_or_default();
            let Ok(pid) = pid.trim().parse::<u32>() else {
                continue; // it never started
            };
            let (pid_arg, proc) = (pid.to_string(), PathBuf::from(format!("/proc/{pid}")));
            let alive = || proc.exists();
            succeeds(Command::new("kill").args(["-TERM", &pid_arg]));
            if wait_for(Duration::from_secs(10), "a daemon to stop", || !alive()).is_err() {
                succeeds(Command::new("kill").args(["-KILL", &pid_arg]));
            }
            let name = pid_file.file_stem().unwrap_or_default().to_string_lossy();
            eprintln!("stopped {name} (pid {pid})");
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.stop();
    }
}

/// munge's key: 1024 random bytes, readable by root only.
fn write_key(path: &Path) -> Result<()> {
    use std::io::{Read, Write};
    use std::os::unix::fs::OpenOptionsExt;
    let mut key = vec![0u8; 1024];
    let urandom = std::fs::File::open("/dev/urandom");
    let read = urandom.and_then(|mut f| f.read_exact(&mut key));
    read.map_err(|e| XtaskError::io("/dev/urandom", e))?;
    let mut options = std::fs::OpenOptions::new();
    let file = options.write(true).create_new(true).mode(0o600).open(path);
    let written = file.and_then(|mut f| f.write_all(&key));
    written.map_err(|e| XtaskError::io(path, e))
}

/// Poll `ready` every 200 ms until it holds, or fail after `timeout` naming `what`.
fn wait_for(timeout: Duration, what: &str, mut ready: impl FnMut() -> bool) -> Result<()> {
    let start = Instant::now();
    while !ready() {
        if start.elapsed() > timeout {
            let after = fmt_duration(timeout);
            let message = format!("gave up waiting for {what} after {after}");
            return Err(XtaskError::Check(message));
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    Ok(())
}

/// One job or array task: the `NAME=value` fields of its line of `scontrol show job -o`.
type Job = BTreeMap<String, String>;

fn parse_jobs(text: &str) -> Vec<Job> {
    let fields = |line: &str| {
        let fields = line.split_whitespace().filter_map(|kv| kv.split_once('='));
        fields.map(|(k, v)| (k.into(), v.into())).collect()
    };
    let lines = text.lines().filter(|l| !l.trim().is_empty());
    lines.map(fields).collect()
}

/// Every job must have completed with exit code 0; otherwise the failures with their logs.
fn check_states(jobs: &[Job], expected: usize, logs: &Path) -> Result<()> {
    let field = |job: &Job, name: &str| job.get(name).cloned().unwrap_or_default();
    let ok = |j: &&Job| field(j, "JobState") == "COMPLETED" && field(j, "ExitCode") == "0:0";
    let describe = |j: &Job| {
        let task = j.get("ArrayTaskId").map(|t| format!(" task {t}"));
        let (id, task) = (field(j, "JobId"), task.unwrap_or_default());
        let (state, exit) = (field(j, "JobState"), field(j, "ExitCode"));
        format!("job {id}{task} {state} (exit {exit})")
    };
    let failed: Vec<String> = jobs.iter().filter(|j| !ok(j)).map(describe).collect();
    if failed.is_empty() && jobs.len() == expected {
        return Ok(());
    }
    let files = std::fs::read_dir(logs).map(|d| d.flatten().map(|e| e.path()).collect());
    let mut files: Vec<PathBuf> = files.unwrap_or_default();
    files.sort();
    let (reported, failed, logs) = (jobs.len(), failed.join(", "), log_tails(&files));
    let message =
        format!("{reported} job(s) reported, {expected} expected; not completed: {failed}");
    Err(XtaskError::Check(format!("{message}\n{logs}")))
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

    #[test]
    fn the_configuration_is_a_private_cgroup_free_cluster() {
        let conf = slurm_conf(Path::new("/w/slurm-check/cluster"), 2);
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
        let first = ["JobId", "ArrayTaskId", "JobState", "ExitCode"].map(|f| states[0][f].as_str());
        assert_eq!(first, ["7", "1", "COMPLETED", "0:0"]);
        assert_eq!(states[2].get("ArrayTaskId"), None);
        let logs = tempfile::tempdir().unwrap();
        std::fs::write(logs.path().join("task-0.out"), "nao: error: something\n").unwrap();
        let logs = logs.path();
        let e = check_states(&states, 3, logs).unwrap_err().to_string();
        assert!(e.contains("job 6 task 0 FAILED (exit 1:0)"), "{e}");
        assert!(e.contains("job 8 CANCELLED"), "{e}");
        assert!(e.contains("nao: error: something"), "{e}");
        assert!(check_states(&states[..1], 1, logs).is_ok());
        assert!(
            check_states(&states[..1], 2, logs).is_err(),
            "a job missing"
        );
    }

    #[test]
    fn datasets_compare_byte_for_byte_without_the_shard_manifests() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        let write = |path: PathBuf, bytes: &[u8]| std::fs::write(path, bytes).unwrap();
        for d in [&a, &b] {
            std::fs::create_dir_all(d.join("bag")).unwrap();
            write(d.join("bag/000.png"), b"png");
            write(d.join("manifest.jsonl"), b"{}\n");
        }
        write(a.join("manifest.shard-0-of-1.jsonl"), b"x");
        write(b.join("manifest.shard-2-of-4.jsonl"), b"y");
        write(b.join(".nao-augment.lock"), b"");
        assert_eq!(compare_datasets(&a, &b).unwrap(), Vec::<String>::new());
        write(b.join("bag/000.png"), b"other");
        write(b.join("bag/001.png"), b"more");
        let only = format!("bag/001.png is only in {}", b.display());
        let differences = compare_datasets(&a, &b).unwrap();
        assert_eq!(differences, [only, "bag/000.png differs".into()]);
    }
}
