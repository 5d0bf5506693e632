"""`cfcompat fix`: mechanical fixes for findings (settings, entry modules, schedules, HTTP clients, env reads).

Public API:
    plan_fixes(root, FixOptions(only=..., include_tests=...)) -> FixPlan   (diff(), workspace.commit(), reports)
    fixable_by_setting(result) -> {fingerprint: "compatibility_date >= ... (wrangler.toml)"}

Names load on first use (PEP 562): every scan imports `settings_fix`, and importing the codemods would pull in
libcst (~0.4 s) for scans that never fix anything.
"""
from __future__ import annotations

import importlib
from typing import Any

_WHERE = {"FIXES": "runner", "FixOptions": "runner", "FixPlan": "runner", "plan_fixes": "runner",
          "require_clean_worktree": "runner", "FixReport": "model", "Workspace": "model", "FixWriteError": "model",
          "fixable_by_setting": "settings_fix", "plan_setting_changes": "settings_fix"}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    mod = _WHERE.get(name)
    if mod is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{mod}"), name)
