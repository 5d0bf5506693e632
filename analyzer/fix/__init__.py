"""`cfcompat fix`: mechanical fixes for findings (settings, entry modules, schedules, HTTP clients, env reads).

Public API:
    plan_fixes(root, FixOptions(only=..., include_tests=...)) -> FixPlan   (diff(), workspace.commit(), reports)
    fixable_by_setting(result) -> {fingerprint: "compatibility_date >= ... (wrangler.toml)"}
"""
from __future__ import annotations

from .model import FixReport, Workspace
from .runner import FIXES, FixOptions, FixPlan, plan_fixes
from .settings_fix import fixable_by_setting, plan_setting_changes

__all__ = ["FIXES", "FixOptions", "FixPlan", "FixReport", "Workspace", "fixable_by_setting", "plan_fixes",
           "plan_setting_changes"]
