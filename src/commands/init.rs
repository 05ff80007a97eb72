//! `codex-local init`: gather the facts, plan, then pull, make the runtime serve the context, configure Codex and
//! verify, each through `steps`; print the report.

use std::fmt::Write as _;
use std::path::Path;
use std::process::ExitCode;

use super::Ctx;
use crate::cli::{InitArgs, RuntimeArg};
use crate::codex::setup::Target;
use crate::facts::codex::{
    INSTALL_COMMAND, MIN_VERSION, NEWEST_TESTED, PROFILE_SUFFIX, version_text,
};
use crate::facts::runtime::RuntimeKind;
use crate::facts::{Facts, Want};
use crate::gather;
use crate::plan::{self, Import, InitOptions, Inputs, Plan, PlanError, from_header};
use crate::report::{Printer, Style};
use crate::runtime;
use crate::runtime::registry;
use crate::size::human_bytes;
use crate::steps::{self, CodexReport, InitReport, Paths};
use crate::text::display_path;

/// Runs `init`.
pub async fn run(args: &InitArgs, ctx: &Ctx<'_>) -> anyhow::Result<ExitCode> {
    let settings = &ctx.settings;
    let printer = ctx.printer;
    let catalog = gather::catalog(settings)?;
    let want = Want {
        codex: false,
        repo: false,
        ..Want::ALL
    };
    let mut facts = gather::gather(settings, want).await?;
    let named = named_model(args, settings, &catalog, &facts, printer).await?;
    let remote = named.model.as_ref();
    let options = options(args, named.import, named.pack);
    let plan = match make_plan(settings, &facts, &catalog, &options, remote) {
        Err(err @ (PlanError::NoRuntime { .. } | PlanError::RuntimeDown { .. }))
            if !args.dry_run =>
        {
            // Installed but not running: started with consent, then planned again.
            if !start_one(args, &options, settings, &facts, printer).await? {
                return Err(err.into());
            }
            facts.runtimes = runtime::probe_all(settings).await?;
            gather::note_programs(settings, &mut facts.runtimes);
            make_plan(settings, &facts, &catalog, &options, remote)?
        }
        other => other?,
    };
    let credentials = CredentialsInAddress::check(settings, &plan);
    if let Some(refusal) = credentials {
        if !args.dry_run {
            return Err(refusal.into());
        }
        printer.warn(&refusal.to_string());
    }
    let paths = Paths::new(&settings.codex_home, &args.profile, args.profile_only);
    // A dry run refuses what the run would, and shows an import made again.
    let plan = check_import_name(&plan, &paths, &facts, printer)?.unwrap_or(plan);
    let plan = own_placement(plan, &paths);
    let mut report = InitReport::new(&plan, args.dry_run, codex_report(&plan, &paths, &facts));
    if args.dry_run {
        printer.result(&report, |style| render_plan(&plan, &report, style))?;
        return Ok(ExitCode::SUCCESS);
    }
    announce(&plan, &report, printer);
    carry_out(args, ctx, &plan, &facts, &paths, &mut report).await?;
    let home_dir = settings.home_dir.as_deref();
    printer.result(&report, |style| render_done(&report, home_dir, style))?;
    Ok(ExitCode::SUCCESS)
}

fn make_plan(
    settings: &crate::settings::Settings,
    facts: &Facts,
    catalog: &plan::catalog::Catalog,
    options: &InitOptions,
    remote: Option<&plan::catalog::Model>,
) -> Result<Plan, PlanError> {
    let tokens: Vec<RuntimeKind> = RuntimeKind::ALL
        .into_iter()
        .filter(|kind| settings.token(*kind).is_some())
        .collect();
    let hardware = facts.hardware.as_ref().ok_or(PlanError::NoHardware)?;
    plan::make(
        &Inputs {
            hardware,
            runtimes: &facts.runtimes,
            oss_base_url: settings.codex_oss_base_url.as_deref(),
            tokens: &tokens,
            remote,
        },
        catalog,
        options,
    )
}

/// What `--model` or `--from` names when it is not simply a catalog or installed model: a model file to import
/// (with what its pack knows of it), or a name sized from Ollama's registry before the pull.
#[derive(Default)]
struct Named {
    model: Option<plan::catalog::Model>,
    import: Option<Import>,
    /// A pack's model name and context.
    pack: Option<(String, u64)>,
}

/// Reads what `--model` or `--from` names. (Offline, and for LM Studio, a name is chosen only among what is there.)
async fn named_model(
    args: &InitArgs,
    settings: &crate::settings::Settings,
    catalog: &plan::catalog::Catalog,
    facts: &Facts,
    printer: &Printer,
) -> anyhow::Result<Named> {
    check_name(args)?;
    if let Some(dir) = &args.from {
        return from_pack(args, dir);
    }
    let Some(name) = args.model.as_deref() else {
        return Ok(Named::default());
    };
    if gather::file_model::is_model_file(name) {
        let path = std::path::Path::new(name);
        let (header, size) = gather::file_model::describe(path)?;
        let tools = header.template_tools.unwrap_or(false);
        let mut model = sized(
            &gather::file_model::model_name(path),
            name,
            &header,
            (size, 0),
            tools,
        )?;
        // LM Studio files it under its own name; the key comes from LM Studio.
        model.lmstudio = Some(gather::file_model::model_name(path));
        let import = Import {
            file: path.to_path_buf(),
            name: args.name.clone(),
            ..Import::default()
        };
        return Ok(Named {
            model: Some(model),
            import: Some(import),
            pack: None,
        });
    }
    let known = catalog.find(name).is_some()
        || facts
            .runtimes
            .iter()
            .any(|status| status.find(name).is_some());
    let lmstudio = matches!(args.runtime, Some(RuntimeArg::Lmstudio));
    if known || args.offline || lmstudio {
        return Ok(Named::default());
    }
    printer.info(&format!(
        "Reading `{name}` from the registry to size it before the pull…"
    ));
    let described = registry::describe(name, settings.registry.as_ref()).await?;
    let model = sized(
        name,
        &described.reference.display(),
        &described.header,
        (described.model_bytes, described.projector_bytes),
        described.tools,
    )?;
    Ok(Named {
        model: Some(model),
        import: None,
        pack: None,
    })
}

/// `--name` is a name Ollama accepts, for a file that is imported.
fn check_name(args: &InitArgs) -> Result<(), super::BadUsage> {
    let Some(name) = args.name.as_deref() else {
        return Ok(());
    };
    let imports = args.from.is_some()
        || args
            .model
            .as_deref()
            .is_some_and(gather::file_model::is_model_file);
    if !imports {
        return Err(super::BadUsage {
            message: "`--name` names a model imported from a file".to_owned(),
            hint: "give `--model FILE.gguf` or `--from DIR` with it, or leave it out".to_owned(),
        });
    }
    if registry::Reference::parse(name).is_none() || name.contains("..") {
        return Err(super::BadUsage {
            message: format!("`{name}` is not a name Ollama accepts"),
            hint: "use letters, digits, `-`, `_` and `.`, with an optional `:tag` (e.g. `my-coder:64k`)"
                .to_owned(),
        });
    }
    Ok(())
}

/// A pack written by `codex-local pack`: its model file, sized from its header, imported with the pack's digest,
/// template and parameters, at the pack's context unless `--context` says otherwise.
fn from_pack(args: &InitArgs, dir: &std::path::Path) -> anyhow::Result<Named> {
    let (pack, file) = gather::pack::read(dir)?;
    let (header, size) = gather::file_model::describe(&file)?;
    let tools = pack.template.as_deref().map_or_else(
        || header.template_tools.unwrap_or(false),
        |template| template.contains(".Tools"),
    );
    let mut model = sized(&pack.name, &pack.name, &header, (size, 0), tools)?;
    model.lmstudio = Some(gather::file_model::model_name(&file));
    let named = (pack.name.clone(), pack.context_length);
    let import = Import {
        file,
        name: args.name.clone(),
        digest: Some(pack.digest),
        template: pack.template,
        system: pack.system,
        parameters: pack.parameters,
        replace_placed: false,
    };
    Ok(Named {
        model: Some(model),
        import: Some(import),
        pack: Some(named),
    })
}

/// A model sized from its GGUF header, refused when it cannot call tools.
fn sized(
    name: &str,
    shown: &str,
    header: &crate::facts::gguf::Header,
    (size, projector): (u64, u64),
    tools: bool,
) -> anyhow::Result<plan::catalog::Model> {
    let model =
        from_header::model_from(name, header, size, projector, tools).map_err(|message| {
            registry::RegistryError::Unusable {
                name: shown.to_owned(),
                message,
            }
        })?;
    if !model.tools {
        return Err(PlanError::NoTools {
            model: shown.to_owned(),
        }
        .into());
    }
    Ok(model)
}

/// Starts the runtime asked for (`--runtime`), else the first one installed, when it is down.
async fn start_one(
    args: &InitArgs,
    options: &InitOptions,
    settings: &crate::settings::Settings,
    facts: &Facts,
    printer: &Printer,
) -> anyhow::Result<bool> {
    let wanted = options.runtime;
    let Some(status) = facts
        .runtimes
        .iter()
        .filter(|status| wanted.is_none_or(|kind| kind == status.name))
        .find(|status| !status.running && status.program.is_some())
    else {
        return Ok(false);
    };
    steps::start_runtime(status, settings, args.yes, printer).await
}

/// A file is imported under a name the runtime already has only when codex-local's journal says it made that
/// model at this address and the runtime still holds it as it was left (the same digest), even after `restore`; a
/// model of the user's by that name is neither taken for the file nor replaced. codex-local's own model is used as
/// it is when the file is unchanged (same digest, or same path, size and modification time), else made again from
/// the file: the plan returned then imports it, and Codex configurations that use it too are named.
fn check_import_name(
    plan: &Plan,
    paths: &Paths,
    facts: &Facts,
    printer: &Printer,
) -> anyhow::Result<Option<Plan>> {
    let Some(import) = plan.import.as_ref().filter(|_| plan.installed) else {
        return Ok(None);
    };
    let installed = facts.runtime(plan.runtime)?.find(&plan.base_model);
    // A damaged journal is reported as such, not taken for an empty one.
    let journal = crate::codex::journal::Journal::load(&paths.home)?;
    let now = installed.and_then(|m| m.digest.as_deref());
    let record = journal.made(plan.runtime.id(), &plan.url, &plan.base_model);
    if record.as_ref().is_some_and(|made| made.pending) {
        return Err(super::BadUsage {
            message: format!(
                "{} has a model named `{}`, and codex-local was stopped while making one by that name: it cannot \
                 tell whether this is that one",
                plan.runtime.display_name(),
                installed.map_or(plan.base_model.as_str(), |m| m.name.as_str())
            ),
            hint: format!(
                "if it is the one codex-local was making, remove it (`ollama rm {}`) and run the same init again; \
                 else give the file another name with `--name NAME`",
                plan.base_model
            ),
        }
        .into());
    }
    let made = journal
        .made_model(plan.runtime.id(), Some(&plan.url), &plan.base_model)
        .filter(|_| record.is_some_and(|made| made.still_ours(plan.runtime, now)));
    let Some(made) = made else {
        return Err(super::BadUsage {
            message: format!(
                "{} at {} already has a model named `{}` that is not one codex-local made there (or it was \
                 changed since): the file is not imported over it",
                plan.runtime.display_name(),
                plan.url,
                installed.map_or(plan.base_model.as_str(), |m| m.name.as_str())
            ),
            hint: "give the file another name with `--name NAME`".to_owned(),
        }
        .into());
    };
    let now = crate::codex::journal::Source::of(&import.file, import.digest.as_deref());
    let unchanged = !made.pending
        && matches!((&made.source, &now), (Some(then), Some(now)) if then.unchanged(now));
    if unchanged {
        return Ok(None);
    }
    let users = configurations_using(&paths.home, &plan.base_model, &paths.profile);
    if made.source.is_some() && !users.is_empty() {
        printer.warn(&format!(
            "`{}` is made again from `{}`: {} use it too, and get this file",
            plan.base_model,
            import.file.display(),
            users.join(", ")
        ));
    }
    Ok(Some(Plan {
        installed: false,
        ..plan.clone()
    }))
}

/// Marks an import whose file codex-local placed in the runtime's folder before (its journal says so, at this
/// address) as free to replace it: a changed file is made again there, as for Ollama.
fn own_placement(mut plan: Plan, paths: &Paths) -> Plan {
    let Some(import) = plan.import.as_mut() else {
        return plan;
    };
    let relative = runtime::lmstudio_files::relative_path(&plan.base_model);
    let placed = std::path::Path::new(&relative);
    import.replace_placed =
        crate::codex::journal::Journal::load(&paths.home).is_ok_and(|journal| {
            journal.made.iter().chain(&journal.models).any(|m| {
                m.runtime == plan.runtime.id()
                    && crate::facts::codex::same_address(&m.url, &plan.url)
                    && m.file.as_ref().is_some_and(|file| file.ends_with(placed))
            })
        });
    plan
}

/// The Codex configurations in `home` (config.toml and every profile but the one at `except`) whose model is
/// `model`.
fn configurations_using(home: &Path, model: &str, except: &Path) -> Vec<String> {
    let status = gather::codex_status(home);
    let mut users = Vec::new();
    if status.model.as_deref() == Some(model) {
        users.push("config.toml".to_owned());
    }
    users.extend(
        status
            .profiles
            .iter()
            .filter(|p| p.path != except && p.selection.model.as_deref() == Some(model))
            .map(|p| format!("profile `{}`", p.name)),
    );
    users
}

/// Notes in the journal the model this run made, as soon as it exists: whatever stops init later, `restore` names
/// it and a later run knows it as codex-local's.
async fn note_created(ctx: &Ctx<'_>, paths: &Paths, report: &mut InitReport) -> anyhow::Result<()> {
    if report.created_variant.is_none() {
        return Ok(());
    }
    edit_journal(ctx, paths, report, steps::remember_variant).await
}

/// Changes codex-local's journal under the Codex home's lock (a damaged one is set aside and said, as for any
/// write), writing it only when the change changed something.
async fn edit_journal(
    ctx: &Ctx<'_>,
    paths: &Paths,
    report: &mut InitReport,
    change: impl FnOnce(&mut crate::codex::journal::Journal, &InitReport),
) -> anyhow::Result<()> {
    let (settings, printer) = (&ctx.settings, ctx.printer);
    let _lock = steps::lock_home(&paths.home, settings.lock_timeout, printer).await?;
    let mut journal = steps::open_journal(paths, printer, report)?;
    let before = journal.clone();
    change(&mut journal, report);
    if journal != before {
        journal.save(&paths.home)?;
    }
    Ok(())
}

/// Pulls or imports the model. An import is staged first (hashed and uploaded, or placed); a model that keeps its
/// name (Ollama) is journaled as pending before the runtime is asked to make it, and again once it exists, so that a
/// kill at any point leaves it named; a file placed for LM Studio is journaled even when LM Studio has not listed it.
/// An imported model goes by the name the runtime gave it: the plan returned then names it.
async fn fetch(
    plan: &Plan,
    runtime: &dyn runtime::Runtime,
    ctx: &Ctx<'_>,
    paths: &Paths,
    report: &mut InitReport,
) -> anyhow::Result<Option<Plan>> {
    let Some(import) = plan.import.as_ref().filter(|_| !plan.installed) else {
        steps::fetch(plan, runtime, ctx.printer, report).await?;
        if plan.import.is_some() {
            // codex-local's own model, taken as it is: `restore` names it again.
            edit_journal(ctx, paths, report, |journal, _| {
                journal.renote(plan.runtime.id(), &plan.url, &plan.base_model);
            })
            .await?;
        }
        return Ok(None);
    };
    let staged = steps::stage_import(plan, import, runtime, ctx.printer, report).await?;
    if runtime.import_keeps_name() {
        report.created_variant = Some(plan.base_model.clone());
        report.import_pending = true;
        note_created(ctx, paths, report).await?;
    }
    let imported = steps::make_import(plan, import, staged, runtime, ctx.printer, report).await;
    let made_nothing = report.import_pending
        && imported.as_ref().is_err_and(|err| !stopped_by_ctrl_c(err))
        && runtime.models().await.is_ok_and(|models| {
            !models
                .iter()
                .any(|m| crate::facts::ollama::same_model(&m.name, &plan.base_model))
        });
    if made_nothing {
        edit_journal(ctx, paths, report, |journal, _| {
            journal.forget_model(plan.runtime.id(), &plan.url, &plan.base_model);
        })
        .await?;
    } else if imported.is_ok() || report.created_file.is_some() {
        note_created(ctx, paths, report).await?;
    }
    let name = imported?;
    Ok((name != plan.base_model).then(|| plan.named(&name)))
}

/// Whether Ctrl-C stopped the import (the runtime may still finish making the model).
fn stopped_by_ctrl_c(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause.is::<crate::interrupt::Interrupted>()
            || matches!(
                cause.downcast_ref::<crate::runtime::error::RuntimeError>(),
                Some(crate::runtime::error::RuntimeError::ImportInterrupted { .. })
            )
    })
}

/// Verification failed: Codex's files stay as they were, and a variant the runtime now holds is journaled so that
/// `restore` can name it.
async fn unverified(
    err: anyhow::Error,
    ctx: &Ctx<'_>,
    paths: &Paths,
    report: &mut InitReport,
) -> anyhow::Error {
    if let Err(noting) = note_created(ctx, paths, report).await {
        return noting;
    }
    ctx.printer
        .warn("Codex's configuration was not changed: codex-local writes only one that works");
    err
}

/// The steps, in order: checks first (nothing changes before they pass), then fetch, serve and verify; Codex's
/// files are written last, only for a configuration that was proven to work, while holding the Codex home's lock.
async fn carry_out(
    args: &InitArgs,
    ctx: &Ctx<'_>,
    plan: &Plan,
    facts: &Facts,
    paths: &Paths,
    report: &mut InitReport,
) -> anyhow::Result<()> {
    let (settings, printer) = (&ctx.settings, ctx.printer);
    let preflight = steps::preflight(plan, paths, args.yes, printer).await?;
    warn_about_codex(report, printer);
    let hardware = facts.hardware()?;
    let runtime = runtime::for_status(facts.runtime(plan.runtime)?, settings)?;
    let renamed = fetch(plan, runtime.as_ref(), ctx, paths, report).await?;
    let plan = renamed.as_ref().unwrap_or(plan);
    let has_gpu = !hardware.gpus.is_empty();
    let serving = steps::serve(
        plan,
        runtime.as_ref(),
        (hardware.total_vram(), has_gpu),
        &paths.home,
        printer,
        report,
    )
    .await?;
    let verified = steps::verify(
        runtime.as_ref(),
        settings.verify_timeout,
        printer,
        report,
        &paths.home,
    )
    .await;
    if let Err(err) = verified {
        return Err(unverified(err, ctx, paths, report).await);
    }
    let _lock = steps::lock_home(&paths.home, settings.lock_timeout, printer).await?;
    steps::tidy(paths);
    let mut journal = steps::open_journal(paths, printer, report)?;
    let target = Target {
        provider: plan.provider.id.clone(),
        base_url: plan.provider.base_url.clone(),
        env_key: plan.provider.env_key.clone(),
        provider_name: format!("{} (codex-local)", plan.runtime.display_name()),
        model: report.model.clone(),
        context: serving.context,
    };
    let changed = steps::configure(
        preflight,
        &target,
        args.offline,
        paths,
        &mut journal,
        report,
    )?;
    let home_dir = settings.home_dir.as_deref();
    steps::report_configured(&changed, &target, home_dir, printer, report);
    Ok(())
}

/// The runtime's address carries a user and password, which Codex's configuration must never hold.
#[derive(Debug, thiserror::Error)]
#[error(
    "The address of {runtime} carries a user and password (`{url}` with `{user}:***@`), and codex-local never writes \
     credentials into Codex's configuration"
)]
pub struct CredentialsInAddress {
    runtime: &'static str,
    url: String,
    user: String,
    var: String,
}

impl CredentialsInAddress {
    fn check(settings: &crate::settings::Settings, plan: &Plan) -> Option<Self> {
        let address = settings.runtime_address(plan.runtime);
        let credentials = address.credentials.as_ref()?;
        Some(Self {
            runtime: plan.runtime.display_name(),
            url: address.url.to_string(),
            user: credentials.user.clone(),
            var: format!("{}_AUTHORIZATION", plan.runtime.id().to_uppercase()),
        })
    }

    /// The next thing to try.
    #[must_use]
    pub fn hint(&self) -> String {
        format!(
            "take the user and password out of the address; to let Codex through a proxy that asks for them, put \
             `Basic <base64 of user:password>` in an environment variable such as `{var}` and add \
             `env_http_headers = {{ Authorization = \"{var}\" }}` to the provider's table after init",
            var = self.var
        )
    }
}

fn options(args: &InitArgs, import: Option<Import>, pack: Option<(String, u64)>) -> InitOptions {
    let (pack_model, pack_context) = pack.unzip();
    InitOptions {
        runtime: args.runtime.map(|r| match r {
            RuntimeArg::Ollama => RuntimeKind::Ollama,
            RuntimeArg::Lmstudio => RuntimeKind::Lmstudio,
        }),
        model: args.model.clone().or(pack_model),
        context: args.context.or(pack_context),
        profile: args.profile.clone(),
        profile_only: args.profile_only,
        offline: args.offline,
        dry_run: args.dry_run,
        min_speed: args.min_speed,
        import,
    }
}

fn codex_report(plan: &Plan, paths: &Paths, facts: &Facts) -> CodexReport {
    CodexReport {
        config: paths.config.clone(),
        profile: paths.profile.clone(),
        provider: plan.provider.id.clone(),
        default_changed: false,
        backup: None,
        profile_backup: None,
        binary: facts.program.clone(),
    }
}

/// The plan's warnings and the choice, in one line, before the steps run.
fn announce(plan: &Plan, report: &InitReport, printer: &Printer) {
    for warning in &plan.warnings {
        printer.warn(warning);
    }
    printer.info(&format!(
        "{} {} on {} ({}): {}",
        printer.err.bold("Model"),
        plan.base_model,
        plan.runtime.display_name(),
        plan::fit::context_label(plan.context_length),
        plan.why
    ));
    if let Some(found) = &report.codex.binary {
        printer.debug(&format!(
            "Codex {} at {}",
            found.version.as_deref().unwrap_or("?"),
            found.path.display()
        ));
    }
}

/// Codex missing or too old is worth a warning, not a failure: the configuration is what init is for.
fn warn_about_codex(report: &mut InitReport, printer: &Printer) {
    let message = match &report.codex.binary {
        None => format!(
            "Codex is not installed: install it with `{INSTALL_COMMAND}`; init configures it all the same"
        ),
        Some(found) if found.supported == Some(false) => format!(
            "Codex {} is older than {}, which loads every key init writes: update it with `{INSTALL_COMMAND}`",
            found.version.as_deref().unwrap_or("?"),
            version_text(MIN_VERSION),
        ),
        Some(found) if found.newer_than_tested => format!(
            "Codex {} is newer than {}, the newest codex-local was tested with; if Codex refuses a key, \
             `codex-local verify` names it",
            found.version.as_deref().unwrap_or("?"),
            version_text(NEWEST_TESTED)
        ),
        Some(_) => return,
    };
    report.warn(printer, message);
}

fn render_plan(plan: &Plan, report: &InitReport, style: Style) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}",
        style.bold("Plan (dry run: nothing is downloaded or written)")
    );
    let running = if plan.runtime_running {
        ""
    } else {
        " (not running)"
    };
    let _ = writeln!(
        out,
        "  runtime   {} at {}{running}",
        plan.runtime.display_name(),
        plan.url
    );
    let _ = writeln!(
        out,
        "  model     {} ({})",
        plan.base_model, plan.display_name
    );
    let _ = writeln!(out, "  why       {}", plan.why);
    let _ = writeln!(out, "  context   {} tokens", plan.context_length);
    if let Some(speed) = &plan.speed {
        let _ = writeln!(
            out,
            "  speed     {} (estimated: {})",
            speed.describe(),
            speed.basis
        );
    }
    let _ = writeln!(
        out,
        "  memory    {} needed; {}",
        human_bytes(plan.need_bytes),
        plan.budget
    );
    let _ = writeln!(
        out,
        "  codex     model `{}` through provider `{}`",
        plan.model, plan.provider.id
    );
    for passed in &plan.passed_over {
        let _ = writeln!(
            out,
            "  {}  {}: {}",
            style.dim("passed over"),
            passed.id,
            passed.reason
        );
    }
    let _ = writeln!(out, "{}", style.bold("Steps"));
    for step in &report.steps {
        let _ = writeln!(out, "  {:<9} {:<8} {}", step.name, step.status, step.detail);
    }
    for warning in &plan.warnings {
        let _ = writeln!(out, "{} {warning}", style.warn("warning:"));
    }
    out
}

fn render_done(report: &InitReport, home: Option<&Path>, style: Style) -> String {
    let mut out = String::new();
    let on = match &report.served {
        Some(served) => format!(
            "{} tokens, {}% on the GPU",
            served.context_length, served.gpu_percent
        ),
        None => format!("{} tokens", report.context_length),
    };
    if report.verified == Some(true) {
        let _ = writeln!(
            out,
            "{} Codex now uses `{}` on {} ({on}).",
            style.good("Ready."),
            report.model,
            report.runtime.display_name()
        );
    } else {
        let _ = writeln!(
            out,
            "Codex is configured for `{}` on {} ({on}), but the check failed.",
            report.model,
            report.runtime.display_name()
        );
    }
    if !report.changed {
        let _ = writeln!(
            out,
            "Nothing changed: this machine was already set up this way."
        );
    }
    let profile = profile_name(&report.codex.profile);
    let start = if report.codex.config.is_some() {
        format!("`codex`, or `codex --profile {profile}`")
    } else {
        format!("`codex --profile {profile}`")
    };
    match &report.codex.binary {
        Some(found) => {
            let version = found.version.as_deref().unwrap_or("?");
            let _ = writeln!(out, "Start it with {start} (Codex {version}).");
        }
        None => {
            let _ = writeln!(
                out,
                "Install Codex with `{INSTALL_COMMAND}`, then start it with {start}."
            );
        }
    }
    if let Some(backup) = &report.codex.backup {
        let _ = writeln!(
            out,
            "The previous config.toml is saved as {}.",
            display_path(backup, home)
        );
    }
    out
}

fn profile_name(path: &Path) -> String {
    path.file_name()
        .map(|n| {
            n.to_string_lossy()
                .trim_end_matches(PROFILE_SUFFIX)
                .to_owned()
        })
        .unwrap_or_default()
}
