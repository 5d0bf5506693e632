"""`cfcompat fix`: mechanical fixes for findings (settings, entry modules, schedules, HTTP clients, env reads).

Public API (analyzer/fix/runner.py):
    plan_fixes(root, FixOptions(only=..., include_tests=...)) -> FixPlan   (diff(), workspace.commit(), reports)

What a compatibility date or flag would resolve is analysis, not a fix: analyzer/whatif.py.
"""
from __future__ import annotations

from .model import FixReport, FixWriteError, Workspace
from .runner import FixOptions, FixPlan, fixes, plan_fixes, require_clean_worktree

__all__ = ["FixOptions", "FixPlan", "FixReport", "FixWriteError", "Workspace", "fixes", "plan_fixes",
           "require_clean_worktree"]
