//! `cloud-init schema --config-file FILE` for many files in one Python process: cloud-init's own
//! command handler, called once per file, instead of one slow-starting process per file.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;

use super::{run_all, verdict};

/// Runs cloud-init's `schema` command handler (`handle_schema_args`, with the arguments parsed by
/// its own parser) for each file named on the command line, and prints a JSON array with, per
/// file, the exit status and the output the command would have printed. `error()` in cloud-init
/// exits, which is caught here as the status the command would have exited with.
const SCHEMA_EACH: &str = r#"
import contextlib
import io
import json
import sys
import traceback

from cloudinit.config import schema

results = []
for path in sys.argv[1:]:
    out = io.StringIO()
    status = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        try:
            args = schema.get_parser().parse_args(["--config-file", path])
            schema.handle_schema_args("cloudconfig-schema", args)
        except SystemExit as exit:
            status = exit.code if isinstance(exit.code, int) else 1
        except Exception:
            traceback.print_exc()
            status = 1
    results.append({"status": status, "output": out.getvalue()})
json.dump(results, sys.stdout)
"#;

/// The interpreter named on the `#!` line of the `cloud-init` script, when it imports cloud-init.
fn cloud_init_python(cloud_init: &Path) -> Option<PathBuf> {
    let text = std::fs::read(cloud_init).ok()?;
    let first = text.split(|b| *b == b'\n').next()?;
    let line = std::str::from_utf8(first).ok()?.strip_prefix("#!")?;
    let mut words = line.split_whitespace();
    let mut python = words.next()?;
    if Path::new(python).file_name().is_some_and(|n| n == "env") {
        python = words.next()?;
    }
    let imports = Command::new(python)
        .args(["-c", "import cloudinit.config.schema"])
        .stdin(Stdio::null())
        .output()
        .is_ok_and(|out| out.status.success());
    imports.then(|| PathBuf::from(python))
}

/// The verdict of `cloud-init schema --config-file` on each of `files`, in order, as
/// [`super::run`] gives it: one Python process for all when the `cloud-init` script's
/// interpreter can be found, one `cloud-init` process per file otherwise.
pub(super) fn schema_each(cloud_init: &Path, files: &[PathBuf]) -> Vec<Result<String, String>> {
    let Some(python) = cloud_init_python(cloud_init) else {
        return run_all(
            files
                .iter()
                .map(|file| {
                    let mut command = Command::new(cloud_init);
                    command.args(["schema", "--config-file"]).arg(file);
                    command
                })
                .collect(),
        );
    };
    let out = Command::new(&python)
        .args(["-c", SCHEMA_EACH])
        .args(files)
        .stdin(Stdio::null())
        .output();
    let parsed = out
        .map_err(|error| format!("could not run {}: {error}", python.display()))
        .and_then(|out| verdict(&out))
        .and_then(|stdout| {
            serde_json::from_str::<Vec<Value>>(&stdout)
                .map_err(|error| format!("unreadable results ({error}):\n{stdout}"))
        });
    match parsed {
        Ok(results) if results.len() == files.len() => results.iter().map(one_result).collect(),
        Ok(results) => vec![
            Err(format!(
                "{} results for {} files",
                results.len(),
                files.len()
            ));
            files.len()
        ],
        Err(error) => vec![Err(error); files.len()],
    }
}

fn one_result(result: &Value) -> Result<String, String> {
    let output = result["output"].as_str().unwrap_or_default().to_owned();
    match result["status"].as_i64() {
        Some(0) => Ok(output),
        status => Err(format!("{output}\n(exit status {status:?})")),
    }
}
