//! init's steps on LM Studio: download through its job API, then load with the context.

use super::{Connection, InitReport, LOAD_IDLE, SHOW_IDLE};
use crate::plan::Plan;
use crate::runtime::error::RuntimeError;
use crate::runtime::{http, lmstudio};
use crate::ui::{Download, Printer};

/// Download and load on LM Studio; returns the context the loaded instance really has.
pub(super) async fn prepare(
    plan: &Plan,
    lmstudio: &Connection<'_>,
    printer: &Printer,
    report: &mut InitReport,
) -> anyhow::Result<u64> {
    download_lmstudio(plan, lmstudio, printer, report).await?;
    let client = http::ops_client(LOAD_IDLE);
    let (base, token, key) = (&lmstudio.base, lmstudio.token, plan.base_model.as_str());
    let wanted = plan.context_length;
    let loaded = lmstudio::instances(&client, base, token, key).await?;
    if let Some(instance) = loaded
        .iter()
        .find(|i| i.context_length.is_some_and(|c| c >= wanted))
    {
        let served = instance.context_length.unwrap_or(wanted);
        report.model.clone_from(&instance.id);
        let detail = format!("`{}` is loaded with {served} tokens already", instance.id);
        report.step(printer, "context", "skipped", detail);
        return Ok(served);
    }
    // A second load would make a second instance (`key:2`): unload the short ones first.
    for instance in &loaded {
        lmstudio::unload(&client, base, token, &instance.id).await?;
    }
    let instance = lmstudio::load(&client, base, token, key, wanted).await?;
    let served = instance.context_length.unwrap_or(wanted);
    report.model.clone_from(&instance.id);
    report.changed = true;
    let unloaded = if loaded.is_empty() {
        String::new()
    } else {
        format!(" (unloaded {} with a shorter context)", loaded.len())
    };
    report.step(
        printer,
        "context",
        "done",
        format!("loaded `{}` with {served} tokens{unloaded}", instance.id),
    );
    if served < wanted {
        let message = format!(
            "LM Studio loaded `{}` with only {served} tokens, not {wanted}; Codex is told the truth",
            instance.id
        );
        report.warn(printer, message);
    }
    Ok(served)
}

/// Asks LM Studio to download the model and follows the job; Ctrl-C stops following, not the download.
async fn download_lmstudio(
    plan: &Plan,
    lmstudio: &Connection<'_>,
    printer: &Printer,
    report: &mut InitReport,
) -> anyhow::Result<()> {
    let key = plan.base_model.as_str();
    let client = http::ops_client(SHOW_IDLE);
    let (base, token) = (&lmstudio.base, lmstudio.token);
    let start = if plan.installed {
        lmstudio::DownloadStart::AlreadyDownloaded
    } else {
        lmstudio::download(&client, base, token, key).await?
    };
    let lmstudio::DownloadStart::Job { id, total } = start else {
        let detail = format!("`{key}` is already downloaded");
        report.step(printer, "pull", "skipped", detail);
        return Ok(());
    };
    let mut progress = printer.download(key);
    let followed = tokio::select! {
        result = follow_download(&client, lmstudio, &id, total, &mut progress) => result,
        _ = tokio::signal::ctrl_c() => Err(RuntimeError::StoppedFollowing { model: key.to_owned() }),
    };
    progress.finish();
    match followed {
        Ok(()) => {
            report.changed = true;
            report.step(printer, "pull", "done", format!("downloaded `{key}`"));
            Ok(())
        }
        Err(err) => {
            let err = match err {
                RuntimeError::Failed { message, .. } => RuntimeError::DownloadFailed {
                    model: key.to_owned(),
                    message,
                },
                other => other,
            };
            report.step(printer, "pull", "failed", err.to_string());
            Err(err.into())
        }
    }
}

/// Polls a download job until it completes or fails.
async fn follow_download(
    client: &reqwest::Client,
    lmstudio: &Connection<'_>,
    job: &str,
    total: Option<u64>,
    progress: &mut Download,
) -> Result<(), RuntimeError> {
    loop {
        let status = lmstudio::download_status(client, &lmstudio.base, lmstudio.token, job).await?;
        let total = status.total_size_bytes.or(total);
        progress.update("downloading", None, total, status.downloaded_bytes);
        match status.status.as_str() {
            "completed" => return Ok(()),
            "failed" => {
                return Err(RuntimeError::Failed {
                    model: job.to_owned(),
                    message: status
                        .error
                        .unwrap_or_else(|| "the download failed".to_owned()),
                });
            }
            _ => tokio::time::sleep(lmstudio.poll).await,
        }
    }
}
