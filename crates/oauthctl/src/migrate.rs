//! `oauthctl migrate`.

use crate::context::Context;
use crate::output;

pub(crate) fn run(ctx: &mut Context) -> anyhow::Result<()> {
    if ctx.json {
        return output::json(&serde_json::json!({
            "database": ctx.db().url().to_string(),
            "applied": ctx.applied,
        }));
    }
    if ctx.applied.is_empty() {
        output::line(&format!("{}: up to date", ctx.db().url()));
    } else {
        for version in &ctx.applied {
            output::line(&format!("applied {version}"));
        }
        output::line(&format!("{}: up to date", ctx.db().url()));
    }
    Ok(())
}
