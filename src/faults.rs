//! Fault injection for the crash tests: with `CODEX_LOCAL_TEST_CRASH_AT=<point>` a debug build aborts the process at
//! that point, as a `kill -9` would, so that tests can check what every interruption leaves behind. Release builds
//! compile the points to nothing.

#[cfg(debug_assertions)]
static CRASH_AT: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// Arms the crash point named by the environment (read by `settings`).
#[cfg(debug_assertions)]
pub fn arm(point: Option<String>) {
    if let Some(point) = point {
        let _ = CRASH_AT.set(point);
    }
}

/// Arms nothing in a release build.
#[cfg(not(debug_assertions))]
pub fn arm(_point: Option<String>) {}

/// Aborts here when this point is armed; `n` counts how many times a point was passed.
#[cfg(debug_assertions)]
pub fn point(name: &str) {
    use std::sync::Mutex;
    static SEEN: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let Some(armed) = CRASH_AT.get() else {
        return;
    };
    let count = {
        let mut seen = SEEN
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        seen.push(name.to_owned());
        seen.iter().filter(|seen| *seen == name).count()
    };
    // `name` aborts at its first pass, `name#2` at its second, and so on.
    if *armed == name || *armed == format!("{name}#{count}") {
        std::process::abort();
    }
}

/// Nothing in a release build.
#[cfg(not(debug_assertions))]
pub fn point(_name: &str) {}
