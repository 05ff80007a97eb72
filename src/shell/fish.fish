# codex-local: a plain `codex` honours local mode. Add to ~/.config/fish/config.fish: codex-local shell-init fish | source
function codex --wraps codex --description 'Codex, started by codex-local so that local mode holds'
    command __CODEX_LOCAL__ run -- $argv
end
