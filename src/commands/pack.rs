//! `codex-local pack DIR`: on a connected machine, choose a model for a described target (or take `--model`),
//! download its GGUF straight from Ollama's registry into DIR (resumable, SHA-256 checked), and write
//! `DIR/codex-local-pack.toml` with what `init --from DIR` needs to recreate it on a machine with no network.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use serde::Serialize;

use super::Ctx;
use crate::cli::PackArgs;
use crate::facts::Want;
use crate::facts::hardware::{Hardware, HardwareSource};
use crate::facts::pack::{self, Pack};
use crate::gather;
use crate::interrupt;
use crate::plan::catalog::{Catalog, Model};
use crate::plan::fit::{self, Budget, Estimate, Fit};
use crate::plan::speed::{self, Throughput};
use crate::plan::{DEFAULT_MIN_SPEED, PlanError, from_header};
use crate::report::Style;
use crate::runtime::registry::{self, Described, RegistryError};
use crate::size::human_bytes;
use crate::text::display_path;

/// Room left on the disk beside the model, for the file system's own needs.
const SPARE_BYTES: u64 = 256 << 20;

/// Why a pack was not made.
#[derive(Debug, thiserror::Error)]
pub enum PackStop {
    #[error("`{model}` is a model file: `pack` downloads from Ollama's registry")]
    ModelFile { model: String },
    #[error(
        "The catalog model `{model}` has no Ollama name, and `pack` downloads from Ollama's registry"
    )]
    NotInOllama { model: String },
    #[error("`{}` is not a folder", dir.display())]
    NotFolder { dir: PathBuf },
    #[error("Another codex-local is packing into `{}`", dir.display())]
    Busy { dir: PathBuf },
    #[error("`{}` holds the pack of `{other}` already{detail}", dir.display())]
    OtherPack {
        dir: PathBuf,
        other: String,
        detail: String,
    },
    #[error("`{}` holds a `{}` that cannot be read ({message})", dir.display(), pack::FILE_NAME)]
    UnreadablePack { dir: PathBuf, message: String },
    #[error("`{}` has {} free, and the model needs {} more", dir.display(), human_bytes(*free), human_bytes(*need))]
    NoRoom { dir: PathBuf, free: u64, need: u64 },
    #[error("Interrupted: {} of {} downloaded so far is kept in `{}`", human_bytes(*have), human_bytes(*total), partial.display())]
    Interrupted {
        partial: PathBuf,
        have: u64,
        total: u64,
    },
}

impl PackStop {
    /// The next thing to try.
    #[must_use]
    pub fn hint(&self) -> String {
        match self {
            Self::ModelFile { .. } => {
                "copy the file to the other machine and run `codex-local init --model FILE` there"
                    .to_owned()
            }
            Self::NotInOllama { .. } => {
                "pick a model with an Ollama name (`codex-local models`), or give any Ollama name"
                    .to_owned()
            }
            Self::NotFolder { .. } => "give the path of a folder, or of one to make".to_owned(),
            Self::Busy { .. } => {
                "wait for it to finish (it says so), then run this again: the file it downloads is kept"
                    .to_owned()
            }
            Self::OtherPack { .. } | Self::UnreadablePack { .. } => {
                "give each model its own folder: choose an empty one, or remove the old pack first".to_owned()
            }
            Self::NoRoom { .. } => {
                "free some space, or choose a folder on a bigger disk".to_owned()
            }
            Self::Interrupted { .. } => {
                "run the same command again: the download goes on from where it stopped".to_owned()
            }
        }
    }

    /// Ctrl-C is reported with its own exit code.
    #[must_use]
    pub fn interrupted(&self) -> bool {
        matches!(self, Self::Interrupted { .. })
    }

    /// What was asked cannot be packed at all (a usage error), rather than failed this time.
    #[must_use]
    pub fn bad_usage(&self) -> bool {
        matches!(self, Self::ModelFile { .. } | Self::NotInOllama { .. })
    }
}

/// The `pack` document.
#[derive(Debug, Serialize)]
struct PackReport {
    dry_run: bool,
    dir: PathBuf,
    /// The description file written (`null` on a dry run).
    pack_file: Option<PathBuf>,
    model_file: PathBuf,
    /// The registry's name of the model, and the catalog's id when it is one of the catalog's.
    model: String,
    catalog_id: Option<String>,
    digest: String,
    size_bytes: u64,
    context_length: u64,
    fit: Fit,
    need_bytes: u64,
    decode_tps: Option<f64>,
    /// The machine it was chosen for.
    target: String,
    hardware: Hardware,
    /// Bytes downloaded now; bytes an earlier run had left and were kept; the file was already whole.
    downloaded_bytes: u64,
    resumed_bytes: u64,
    already_there: bool,
    why: String,
}

/// Runs `pack`.
pub async fn run(args: &PackArgs, ctx: &Ctx<'_>) -> anyhow::Result<ExitCode> {
    let (settings, printer) = (&ctx.settings, ctx.printer);
    let catalog = gather::catalog(settings)?;
    let hardware = target(settings, printer).await?;
    let budget = Budget::from_hardware(&hardware);
    let machine = Throughput::of(&hardware);
    let rate = |model: &Model, estimate: &Estimate| {
        speed::estimate(model, estimate, &machine).map(|s| s.decode_tps)
    };
    let floor = fit::Floor {
        rate: &rate,
        min: args.min_speed.unwrap_or(DEFAULT_MIN_SPEED),
    };
    let picked = pick(args, &catalog, &budget, &floor)?;
    printer.info(&format!(
        "Reading `{}` from the registry…",
        picked.ollama_name
    ));
    let described = registry::describe(&picked.ollama_name, settings.registry.as_ref()).await?;
    let (model, estimate) = size(args, &picked, &described, &budget, &floor)?;
    let decode_tps = speed::estimate(&model, &estimate, &machine).map(|s| s.decode_tps);
    let dir = args.dir.clone();
    let file = pack::file_name_for(&described.reference.short());
    let mut report = PackReport {
        dry_run: args.dry_run,
        pack_file: None,
        model_file: dir.join(&file),
        dir,
        model: described.reference.short(),
        catalog_id: picked.catalog.as_ref().map(|m| m.id.clone()),
        digest: described.model_digest.clone(),
        size_bytes: described.model_bytes,
        context_length: estimate.context_length,
        fit: estimate.fit,
        need_bytes: estimate.need_bytes,
        decode_tps: decode_tps.map(crate::steps::round1),
        target: budget.describe(),
        hardware,
        downloaded_bytes: 0,
        resumed_bytes: 0,
        already_there: false,
        why: format!("{}; {}", picked.why, estimate.explain(&budget)),
    };
    if !args.dry_run {
        make_folder(&report.dir)?;
        // One pack at a time per folder, from the first look at it to the description written.
        let _lock = lock_folder(&report.dir)?;
        let path = report.dir.join(pack::FILE_NAME);
        check_earlier_pack(&report.dir, &path, &report.model, &report.digest)?;
        fill(&mut report, &described, settings.stall_timeout, printer).await?;
        write_description(&path, &description(&report, &described, file).to_text())?;
        report.pack_file = Some(path);
    }
    let home = settings.home_dir.as_deref();
    printer.result(&report, |style| render(&report, home, style))?;
    Ok(ExitCode::SUCCESS)
}

/// The machine to pack for: described, else (with a warning) this one.
async fn target(
    settings: &crate::settings::Settings,
    printer: &crate::report::Printer,
) -> anyhow::Result<Hardware> {
    let want = Want {
        hardware: true,
        ..Want::default()
    };
    let hardware = gather::gather(settings, want).await?.hardware()?.clone();
    if hardware.source == HardwareSource::Probed {
        printer.warn(
            "no target described (`--ram`, `--gpu`, `--unified`): choosing for this machine's own memory",
        );
    }
    Ok(hardware)
}

/// What `init --from` needs to know of the model.
fn description(report: &PackReport, described: &Described, file: String) -> Pack {
    Pack {
        schema_version: pack::SCHEMA_VERSION,
        name: report.model.clone(),
        catalog_id: report.catalog_id.clone(),
        file,
        digest: report.digest.clone(),
        size_bytes: report.size_bytes,
        context_length: report.context_length,
        target: Some(report.target.clone()),
        template: described.template.clone(),
        system: described.system.clone(),
        parameters: described
            .parameters
            .as_ref()
            .and_then(|p| p.as_object().cloned())
            .map(without_nulls),
    }
}

/// The model to pack, before the registry is asked.
struct Picked {
    ollama_name: String,
    catalog: Option<Model>,
    why: String,
}

fn pick(
    args: &PackArgs,
    catalog: &Catalog,
    budget: &Budget,
    floor: &fit::Floor<'_>,
) -> anyhow::Result<Picked> {
    if let Some(name) = args.model.as_deref() {
        if gather::file_model::is_model_file(name) || name.to_ascii_lowercase().ends_with(".gguf") {
            return Err(PackStop::ModelFile {
                model: name.to_owned(),
            }
            .into());
        }
        return Ok(match catalog.find(name) {
            Some(model) => Picked {
                ollama_name: model.ollama.clone().ok_or_else(|| PackStop::NotInOllama {
                    model: name.to_owned(),
                })?,
                catalog: Some(model.clone()),
                why: "asked for".to_owned(),
            },
            None => Picked {
                ollama_name: name.to_owned(),
                catalog: None,
                why: "asked for".to_owned(),
            },
        });
    }
    let candidates: Vec<&Model> = catalog
        .models
        .iter()
        .filter(|m| m.tools && m.ollama.is_some())
        .collect();
    let choice = fit::choose(&candidates, budget, args.context, Some(floor)).map_err(|no_fit| {
        PlanError::NothingFits {
            budget: no_fit.budget,
            reasons: no_fit.reasons,
            smallest: no_fit.smallest,
        }
    })?;
    Ok(Picked {
        ollama_name: choice.model.ollama.clone().unwrap_or_default(),
        why: choice.model.ranking(),
        catalog: Some(choice.model.clone()),
    })
}

/// The model's numbers (the catalog's, else its header's) and where it runs on the target.
fn size(
    args: &PackArgs,
    picked: &Picked,
    described: &Described,
    budget: &Budget,
    floor: &fit::Floor<'_>,
) -> anyhow::Result<(Model, Estimate)> {
    let name = described.reference.display();
    let model = match &picked.catalog {
        Some(model) => model.clone(),
        None => from_header::model_from(
            &picked.ollama_name,
            &described.header,
            described.model_bytes,
            described.projector_bytes,
            described.tools,
        )
        .map_err(|message| RegistryError::Unusable {
            name: name.clone(),
            message,
        })?,
    };
    if !described.tools {
        return Err(PlanError::NoTools { model: name }.into());
    }
    let contexts = fit::contexts(args.context);
    let Some(estimate) = fit::placement(&model, &contexts, budget, Some(floor))
        .or_else(|| fit::placement(&model, &contexts, budget, None))
    else {
        let at = fit::estimate(&model, *contexts.last().unwrap_or(&contexts[0]), budget);
        return Err(PlanError::DoesNotFit {
            model: name,
            budget: budget.describe(),
            reason: at.explain(budget),
        }
        .into());
    };
    Ok((model, estimate))
}

/// Makes the folder and puts the whole, checked model file in it: kept when it is there already, resumed when a
/// download was cut short.
async fn fill(
    report: &mut PackReport,
    described: &Described,
    stall: std::time::Duration,
    printer: &crate::report::Printer,
) -> anyhow::Result<()> {
    let path = report.model_file.clone();
    if whole(
        &path,
        described.model_bytes,
        &described.model_digest,
        printer,
    )
    .await?
    {
        report.already_there = true;
        remove_stale_partial(&path);
        printer.info(&format!(
            "`{}` is already here and matches its digest",
            path.display()
        ));
        return Ok(());
    }
    let partial = registry::partial_path(&path);
    let have = std::fs::symlink_metadata(&partial)
        .ok()
        .filter(std::fs::Metadata::is_file)
        .map_or(0, |m| m.len());
    let need = described.model_bytes.saturating_sub(have);
    if let Some(free) = crate::runtime::free_bytes(&report.dir)
        && free < need.saturating_add(SPARE_BYTES)
    {
        return Err(PackStop::NoRoom {
            dir: report.dir.clone(),
            free,
            need,
        }
        .into());
    }
    let mut bar = printer.download(&report.model);
    let mut seen = have;
    let mut progress = |done: u64, total: u64| {
        seen = done;
        bar.update("downloading", Some(&report.digest), Some(total), Some(done));
    };
    let outcome = tokio::select! {
        outcome = registry::download(described, &path, stall, &mut progress) => Some(outcome),
        () = interrupt::wait() => None,
    };
    bar.finish();
    match outcome {
        Some(Ok((downloaded, kept))) => {
            report.downloaded_bytes = downloaded;
            report.resumed_bytes = kept;
            Ok(())
        }
        Some(Err(err)) => Err(err.into()),
        None => Err(PackStop::Interrupted {
            partial,
            have: seen,
            total: described.model_bytes,
        }
        .into()),
    }
}

/// Makes the folder when it is missing; refuses anything else in its place.
fn make_folder(dir: &Path) -> anyhow::Result<()> {
    match std::fs::metadata(dir) {
        Ok(meta) if meta.is_dir() => Ok(()),
        Ok(_) => Err(PackStop::NotFolder {
            dir: dir.to_path_buf(),
        }
        .into()),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir_all(dir).map_err(|source| RegistryError::Write {
                path: dir.to_path_buf(),
                source,
            })?;
            Ok(())
        }
        Err(source) => Err(RegistryError::Write {
            path: dir.to_path_buf(),
            source,
        }
        .into()),
    }
}

/// Whether `path` is a regular file of `size` bytes whose SHA-256 is `digest` (read with progress).
async fn whole(
    path: &Path,
    size: u64,
    digest: &str,
    printer: &crate::report::Printer,
) -> anyhow::Result<bool> {
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.is_file() && meta.len() == size => {}
        Ok(meta) if !meta.is_file() => {
            return Err(RegistryError::Write {
                path: path.to_path_buf(),
                source: std::io::Error::other("something other than a regular file is there"),
            }
            .into());
        }
        _ => return Ok(false),
    }
    let mut bar = printer.download("the file already there");
    let mut progress = |done| bar.update("downloading", None, Some(size), Some(done));
    let found = tokio::select! {
        found = crate::runtime::sha256_file(path, &mut progress) => found,
        () = interrupt::wait() => return Err(interrupt::Interrupted.into()),
    };
    bar.finish();
    let found = found.map_err(|source| RegistryError::Write {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(found == digest)
}

/// Removes a partial download beside the whole file `path`: it is of no use any more (only a plain file is
/// removed, never what a link points to).
fn remove_stale_partial(path: &Path) {
    let partial = registry::partial_path(path);
    if std::fs::symlink_metadata(&partial).is_ok_and(|m| m.is_file()) {
        let _ = std::fs::remove_file(&partial);
    }
}

/// Holds an advisory lock on the folder itself (nothing is written for it) until dropped; another `pack` into it
/// is refused. A file system without locks (some network ones) goes without: the digest check still guards the
/// file.
fn lock_folder(dir: &Path) -> anyhow::Result<Option<std::fs::File>> {
    let handle = std::fs::File::open(dir).map_err(|source| RegistryError::Write {
        path: dir.to_path_buf(),
        source,
    })?;
    match handle.try_lock() {
        Ok(()) => Ok(Some(handle)),
        Err(std::fs::TryLockError::WouldBlock) => Err(PackStop::Busy {
            dir: dir.to_path_buf(),
        }
        .into()),
        Err(std::fs::TryLockError::Error(_)) => Ok(None),
    }
}

/// Refuses, before anything is downloaded, a description that cannot be replaced (a link, a folder) or that
/// describes another model: a folder holds one pack.
fn check_earlier_pack(dir: &Path, path: &Path, model: &str, digest: &str) -> anyhow::Result<()> {
    match std::fs::symlink_metadata(path) {
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(source) => {
            return Err(RegistryError::Write {
                path: path.to_path_buf(),
                source,
            }
            .into());
        }
        Ok(meta) if !meta.is_file() => {
            return Err(RegistryError::Write {
                path: path.to_path_buf(),
                source: std::io::Error::other("something other than a regular file is there"),
            }
            .into());
        }
        Ok(_) => {}
    }
    match gather::pack::read(dir) {
        // The same model again (for another target, or to finish a download): the pack is renewed.
        Ok((earlier, _)) if earlier.digest == digest && earlier.name == model => Ok(()),
        Ok((earlier, _)) => Err(PackStop::OtherPack {
            dir: dir.to_path_buf(),
            detail: if earlier.name == model {
                format!(", from another file ({})", earlier.digest)
            } else {
                String::new()
            },
            other: earlier.name,
        }
        .into()),
        Err(err) => Err(PackStop::UnreadablePack {
            dir: dir.to_path_buf(),
            message: err.to_string(),
        }
        .into()),
    }
}

/// Writes the description atomically (a temporary file renamed over it); a link or folder in its place is refused.
fn write_description(path: &Path, text: &str) -> anyhow::Result<()> {
    use std::io::Write as _;
    let error = |source| RegistryError::Write {
        path: path.to_path_buf(),
        source,
    };
    if let Ok(meta) = std::fs::symlink_metadata(path)
        && !meta.is_file()
    {
        return Err(error(std::io::Error::other(
            "something other than a regular file is there",
        ))
        .into());
    }
    let dir = path.parent().unwrap_or(Path::new("."));
    // As readable as the model file beside it (the umask still applies): it holds nothing secret.
    let mut builder = tempfile::Builder::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        builder.permissions(std::fs::Permissions::from_mode(0o644));
    }
    let mut temp = builder.tempfile_in(dir).map_err(error)?;
    temp.write_all(text.as_bytes()).map_err(error)?;
    temp.as_file().sync_all().map_err(error)?;
    temp.persist(path).map_err(|err| error(err.error))?;
    Ok(())
}

/// Ollama's parameters as TOML can hold them: no nulls.
fn without_nulls(
    map: serde_json::Map<String, serde_json::Value>,
) -> serde_json::Map<String, serde_json::Value> {
    map.into_iter()
        .filter(|(_, value)| !value.is_null())
        .map(|(key, value)| match value {
            serde_json::Value::Array(items) => (
                key,
                serde_json::Value::Array(items.into_iter().filter(|v| !v.is_null()).collect()),
            ),
            other => (key, other),
        })
        .collect()
}

fn render(report: &PackReport, home: Option<&Path>, style: Style) -> String {
    let mut out = String::new();
    let title = if report.dry_run {
        "Pack (dry run: nothing is downloaded or written)"
    } else {
        "Packed."
    };
    let _ = writeln!(out, "{}", style.bold(title));
    let _ = writeln!(
        out,
        "  model     {} ({})",
        report.model,
        human_bytes(report.size_bytes)
    );
    let _ = writeln!(out, "  why       {}", report.why);
    let _ = writeln!(out, "  for       {}", report.target);
    let _ = writeln!(out, "  context   {} tokens", report.context_length);
    if let Some(tps) = report.decode_tps {
        let _ = writeln!(out, "  speed     about {tps} tokens/s written (estimated)");
    }
    let _ = writeln!(
        out,
        "  file      {}",
        display_path(&report.model_file, home)
    );
    if report.dry_run {
        return out;
    }
    let got = if report.already_there {
        "already there, digest checked".to_owned()
    } else if report.resumed_bytes > 0 {
        format!(
            "{} downloaded, {} kept from before; digest checked",
            human_bytes(report.downloaded_bytes),
            human_bytes(report.resumed_bytes)
        )
    } else {
        format!(
            "{} downloaded; digest checked",
            human_bytes(report.downloaded_bytes)
        )
    };
    let _ = writeln!(out, "  got       {got}");
    let _ = writeln!(
        out,
        "Copy {} to the other machine, then run there:\n  codex-local init --from <the folder> --offline",
        display_path(&report.dir, home)
    );
    out
}
