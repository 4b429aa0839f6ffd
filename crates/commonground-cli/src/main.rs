//! `commonground`: the command-line tool. It parses arguments, calls the library and prints; it
//! computes nothing itself.
//!
//! Exit codes: 0 on success, 2 on bad input or bad arguments (with a one-line error naming the
//! file, line and problem), 1 when the output cannot be written.

mod progress;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand, ValueEnum};
use commonground::bridging::{BridgingScore, SCORES};
use commonground::cluster::{GroupCount, StabilityParams};
use commonground::generate::VoteFileFormat;
use commonground::io::columnar::TableFormat;
use commonground::io::{self, PolisMath};
use commonground::{Batching, Conversation, Id, Mode, Params, Profile, Request, Restarts};

/// Finds the opinion groups in a deliberation and the statements that bridge them (the Pol.is
/// math, faithful, fast and reproducible).
#[derive(Parser)]
#[command(name = "commonground", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Analyse a conversation: a Polis export folder (votes.csv + comments.csv, or
    /// participants-votes.csv) or a Polis API dump folder (votes.json + comments.json).
    Analyze(AnalyzeArgs),
    /// Run as a deliberation site's math worker: read Polis's votes and comments from PostgreSQL,
    /// keep every conversation's analysis current, and write Polis's math tables (a drop-in for
    /// Polis's math worker; docs/worker.md).
    Worker(WorkerArgs),
    /// Write a synthetic deliberation with planted opinion groups and bridging statements: a Polis
    /// export folder (votes.csv + comments.csv) plus truth.json with the planted answer.
    Generate(GenerateArgs),
}

#[derive(clap::Args)]
struct GenerateArgs {
    #[arg(long, default_value_t = 1000)]
    participants: usize,
    #[arg(long, default_value_t = 100)]
    statements: usize,
    /// Target total number of votes (passes included).
    #[arg(long, default_value_t = 20_000)]
    votes: usize,
    #[arg(long, default_value_t = 3)]
    groups: usize,
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Planted bridging statements (default: one in twenty).
    #[arg(long)]
    bridging: Option<usize>,
    /// The folder to write.
    #[arg(long)]
    output: PathBuf,
    /// How to write the votes: votes.csv (a Polis export), votes.parquet or votes.arrow (Arrow
    /// IPC); comments.csv and truth.json beside them either way.
    #[arg(long, value_enum, default_value_t = VoteFileArg::Csv)]
    format: VoteFileArg,
}

#[derive(Clone, Copy, ValueEnum)]
enum VoteFileArg {
    Csv,
    Parquet,
    Arrow,
}

#[derive(clap::Args)]
struct WorkerArgs {
    /// The Polis database, e.g. postgres://polis@localhost:5432/polis.
    #[arg(long, env = "DATABASE_URL")]
    database_url: String,
    /// Which deployment's math rows to read and write (Polis's MATH_ENV).
    #[arg(long, env = "MATH_ENV", default_value = "prod")]
    math_env: String,
    /// Milliseconds between polls.
    #[arg(long, value_name = "MS", default_value_t = 1000)]
    poll_interval: u64,
    /// Update every conversation with votes or moderation newer than its stored math, then exit
    /// (for cron and tests). Exit code 3 if any conversation failed.
    #[arg(long)]
    once: bool,
    /// Serve Prometheus metrics on this address (e.g. 127.0.0.1:9187).
    #[arg(long, value_name = "HOST:PORT")]
    metrics_addr: Option<std::net::SocketAddr>,
    /// How far (ms) before its cursor each update re-reads votes, for rows committed late with an
    /// older timestamp.
    #[arg(long, value_name = "MS", default_value_t = 10_000)]
    overlap: i64,
    /// Drop a conversation from memory after this many seconds without an update (its state
    /// stays in the database).
    #[arg(long, value_name = "SECONDS", default_value_t = 600)]
    idle_evict: u64,
    /// This worker's name in logs (default: host-pid).
    #[arg(long)]
    worker_id: Option<String>,
    /// Analysis parameters as one JSON object, e.g. '{"pca_warm_start": "lanczos"}' for faster
    /// updates (default: Polis's parameters).
    #[arg(long, value_name = "JSON", default_value = "{}")]
    params: String,
}

#[derive(clap::Args)]
struct AnalyzeArgs {
    /// The conversation folder. Defaults to the bundled vTaiwan example.
    path: Option<PathBuf>,
    /// What to write.
    #[arg(long, value_enum, default_value_t = Format::Summary)]
    format: Format,
    /// Write to this file instead of standard output (with csv: the folder of the tables).
    #[arg(long, required_if_eq("format", "csv"))]
    output: Option<PathBuf>,
    /// Seed of every random choice (the Polis pipeline itself is deterministic).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Feed the votes through the analysis in time order, batch by batch, as the Polis worker saw
    /// them, instead of all at once (needs vote timestamps).
    #[arg(long)]
    replay: bool,
    /// Which restarts of Polis's math worker the replay models: none; final (after the last vote,
    /// the state Polis's stored math shows); gaps:DURATION (at every quiet spell longer than
    /// DURATION, e.g. gaps:1d, and after the last vote). Implies --replay.
    #[arg(long, value_name = "none|final|gaps:DURATION", value_parser = parse_restarts)]
    replay_restarts: Option<Restarts>,
    /// Print the wall time of each stage on standard error.
    #[arg(long)]
    timings: bool,
    /// The score that ranks the bridging statements.
    #[arg(long, default_value = BridgingScore::default().short_name(),
          value_parser = clap::builder::PossibleValuesParser::new(
              SCORES.iter().map(|s| clap::builder::PossibleValue::new(s.short_name).help(s.description))))]
    rank_by: String,
    /// Skip the Community Notes matrix factorization (the other bridging scores stay).
    #[arg(long)]
    no_mf: bool,
    /// Measure the groups' bootstrap stability for every candidate number of groups, with this
    /// many replicates (e.g. 50; each reruns the clustering).
    #[arg(long, value_name = "REPLICATES")]
    stability: Option<usize>,
    /// Largest number of groups tried (Polis: 5).
    #[arg(long, default_value_t = 5)]
    max_k: usize,
    /// Statements that describe the participant rather than an opinion ("I have a driver's
    /// licence"), as comma-separated ids: treated as Polis treats meta statements, left out of the
    /// groups' representative statements, consensus and bridging.
    #[arg(long, value_name = "IDS", value_delimiter = ',')]
    meta: Vec<String>,
    /// Statements to leave out of the analysis, as comma-separated ids, as if a moderator had
    /// rejected them.
    #[arg(long, value_name = "IDS", value_delimiter = ',')]
    exclude: Vec<String>,
    /// How many opinion groups: "polis" (Polis's rule: the best silhouette for k = 2..max-k),
    /// "discover" (groups found from the votes, down to about 5% of participants, k up to 8:
    /// docs/groups.md), or a number, honoured exactly (an error says why when the data cannot
    /// give that many).
    #[arg(long, value_name = "polis|discover|K", default_value = "polis", value_parser = str::parse::<GroupCount>)]
    groups: GroupCount,
    /// "polis" (default): Polis's iteration, exact. "fast": looser stopping rules for very large
    /// conversations (k-means until at most one point in a hundred moves, Lanczos PCA without
    /// Polis's polish, the factorization to a loss gap of 1e-6); see BENCHMARKS.md for how close
    /// it stays to the exact result.
    #[arg(long, value_name = "polis|fast", default_value = "polis", value_parser = str::parse::<Profile>)]
    profile: Profile,
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    /// Groups, what each stands for, consensus and common ground, for people.
    Summary,
    /// commonground's full analysis as JSON.
    Json,
    /// The Polis math JSON (the shape of Polis's math-pca2), readable by Polis clients.
    Polis,
    /// A self-contained report page to share (one HTML file that works offline): opinion map,
    /// groups, common ground, uncertainty, bridging.
    Html,
    /// The tables for spreadsheets, written into the --output folder: participants.csv,
    /// statements.csv, repness.csv, bridging.csv.
    Csv,
}

/// `--replay-restarts`: the core's parser, its message without the parameter name clap adds.
fn parse_restarts(text: &str) -> Result<Restarts, String> {
    Restarts::parse(text).map_err(|e| match e {
        commonground::Error::InvalidParameter { message, .. } => message,
        other => other.to_string(),
    })
}

/// The bundled example, when the binary runs from the repository (`cargo run`).
fn bundled_example() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/data/vtaiwan.uberx")
}

enum Failure {
    Input(commonground::Error),
    Output(String),
}

fn run(args: AnalyzeArgs) -> Result<(), Failure> {
    let path = args.path.unwrap_or_else(bundled_example);
    let mut params = Params { seed: args.seed, profile: args.profile, ..Params::default() };
    params.bridging.mf.enabled = !args.no_mf;
    params.max_k = args.max_k;
    params.groups = args.groups;
    if let Some(replicates) = args.stability {
        params.group_stability = StabilityParams { enabled: true, replicates };
    }
    // clap admits only the listed names.
    params.bridging.rank_by = BridgingScore::from_short_name(&args.rank_by).unwrap_or_default();

    let bars = progress::Bars::for_stderr();
    let start = Instant::now();
    let io::ConversationData { votes, statements, source } =
        progress::spinner(bars.as_ref(), &format!("reading {}", path.display()), || io::load(&path))
            .map_err(Failure::Input)?;
    let load = start.elapsed();
    // What the reader decided or left out, on standard error (the output stays the analysis).
    for note in &source.notes {
        eprintln!("commonground: note: {}", io::terminal_safe(note));
    }
    for warning in &source.warnings {
        eprintln!("commonground: warning: {}", io::terminal_safe(warning));
    }

    let replay = args.replay || args.replay_restarts.is_some();
    let mode = match args.replay_restarts {
        Some(restarts) => Mode::Replay(Batching { restarts, ..Batching::default() }),
        None if replay => Mode::Replay(Batching::default()),
        None => Mode::OneBatch,
    };
    let ids = |given: &[String]| given.iter().map(|s| Id::parse(s)).collect();
    let request = Request { params, mode, meta: ids(&args.meta), exclude: ids(&args.exclude) };
    let reporter = bars.clone().map(|b| b as Arc<dyn commonground::Progress>);
    let conv = progress::spinner(bars.as_ref(), "analysing", || {
        // Taken, not lent: the vote matrix is built out of the votes' arrays, which are freed
        // before the analysis (the matrix holds what it needs).
        Conversation::run_owned(&request, statements, votes, reporter)
    })
    .map_err(Failure::Input)?;
    let analysis = conv.analysis().expect("an update ran");

    let start = Instant::now();
    let title =
        path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| path.display().to_string());
    // JSON is streamed as it is serialised (`None` here): a million participants' JSON is about
    // 300 MB, and held as one string it set the run's peak memory.
    let text = match args.format {
        Format::Json | Format::Polis => None,
        Format::Summary => Some(io::summary(analysis, &title, Some(&source.description()))),
        Format::Html => Some(io::html_report(analysis, &title, Some(&source))),
        Format::Csv => Some(write_csv_tables(analysis, args.output.as_deref()).map(|()| String::new())?),
    };
    // Every format goes to the file or stdout through one writer, ending with a newline.
    let write = |w: &mut dyn std::io::Write| -> std::io::Result<()> {
        match &text {
            None if matches!(args.format, Format::Polis) => PolisMath::from_analysis(analysis).write_json(&mut *w)?,
            None => analysis.write_json(&mut *w)?,
            Some(text) => w.write_all(text.as_bytes())?,
        }
        if !text.as_ref().is_some_and(|t| t.ends_with('\n')) {
            w.write_all(b"\n")?;
        }
        w.flush()
    };
    match &args.output {
        Some(_) if matches!(args.format, Format::Csv) => {} // written above, one file per table
        Some(file) => std::fs::File::create(file)
            .and_then(|f| write(&mut std::io::BufWriter::with_capacity(1 << 20, f)))
            .map_err(|e| Failure::Output(format!("{}: {e}", file.display())))?,
        // A closed pipe (`| head`) is not an error worth reporting.
        None => drop(write(&mut std::io::BufWriter::with_capacity(1 << 20, std::io::stdout().lock()))),
    }
    let output = start.elapsed();

    if args.timings {
        let t = conv.timings();
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        eprintln!(
"timings (ms){}: load {:.1}  matrix {:.1}  pca {:.1}  clustering {:.1}  stability {:.1}  statistics {:.1}  bridging {:.1}  \
             mf {:.1} (beside the other stages)  analysis {:.1}  output {:.1}",
            if replay { " of the last update" } else { "" },
            ms(load),
            ms(t.matrix),
            ms(t.pca),
            ms(t.clustering),
            ms(t.stability),
            ms(t.statistics),
            ms(t.bridging),
            ms(t.mf),
            ms(t.total),
            ms(output)
        );
    }
    Ok(())
}

/// `--format csv`: the tables, one file each, into the `--output` folder.
fn write_csv_tables(analysis: &commonground::Analysis, dir: Option<&Path>) -> Result<(), Failure> {
    let Some(dir) = dir else {
        return Err(Failure::Output("--format csv needs --output DIR (clap requires it)".into()));
    };
    let tables = io::csv_tables(analysis).map_err(Failure::Input)?;
    std::fs::create_dir_all(dir).map_err(|e| Failure::Output(format!("{}: {e}", dir.display())))?;
    for table in tables {
        let file = dir.join(table.name);
        std::fs::write(&file, table.content).map_err(|e| Failure::Output(format!("{}: {e}", file.display())))?;
    }
    Ok(())
}

fn generate(args: GenerateArgs) -> Result<(), Failure> {
    let params = commonground::generate::SyntheticParams {
        participants: args.participants,
        statements: args.statements,
        votes: args.votes,
        groups: args.groups,
        seed: args.seed,
        bridging: args.bridging,
        ..Default::default()
    };
    let bars = progress::Bars::for_stderr();
    progress::spinner(bars.as_ref(), &format!("generating {}", args.output.display()), || {
        let synthetic = commonground::generate::Synthetic::new(params).map_err(Failure::Input)?;
        let format = match args.format {
            VoteFileArg::Csv => VoteFileFormat::Csv,
            VoteFileArg::Parquet => VoteFileFormat::Table(TableFormat::Parquet),
            VoteFileArg::Arrow => VoteFileFormat::Table(TableFormat::ArrowIpc),
        };
        synthetic.write_folder(&args.output, format).map_err(|e| Failure::Output(e.to_string()))
    })
}

fn worker(args: WorkerArgs) -> ExitCode {
    let params = match Request::from_json(&args.params) {
        Ok(Request { params, mode: Mode::OneBatch, meta, exclude }) if meta.is_empty() && exclude.is_empty() => params,
        Ok(Request { mode: Mode::OneBatch, .. }) => {
            eprintln!(
                "commonground: error: --params: a worker reads meta and rejected statements from Polis's comments \
                 table; meta and exclude do not apply"
            );
            return ExitCode::from(2);
        }
        Ok(_) => {
            eprintln!("commonground: error: --params: a worker updates as votes arrive; replay keys do not apply");
            return ExitCode::from(2);
        }
        Err(e) => {
            eprintln!("commonground: error: --params: {e}");
            return ExitCode::from(2);
        }
    };
    let mut config = commonground_worker::Config::new(args.database_url);
    config.params = params;
    config.math_env = args.math_env;
    config.poll_interval = Duration::from_millis(args.poll_interval);
    config.once = args.once;
    config.metrics_addr = args.metrics_addr;
    config.overlap_ms = args.overlap;
    config.idle_evict = Duration::from_secs(args.idle_evict);
    if let Some(id) = args.worker_id {
        config.worker_id = id;
    }
    match commonground_worker::run(config) {
        Ok(summary) if summary.failed.is_empty() => ExitCode::SUCCESS,
        Ok(summary) => {
            eprintln!("commonground: error: the update of conversations {:?} failed (see the log)", summary.failed);
            ExitCode::from(3)
        }
        Err(e) => {
            eprintln!("commonground: error: {e}");
            ExitCode::from(2)
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Analyze(args) => run(args),
        Command::Generate(args) => generate(args),
        Command::Worker(args) => return worker(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Input(e)) => {
            eprintln!("commonground: error: {}", io::terminal_safe(&e.to_string()));
            ExitCode::from(2)
        }
        Err(Failure::Output(e)) => {
            eprintln!("commonground: error writing output: {e}");
            ExitCode::from(1)
        }
    }
}
