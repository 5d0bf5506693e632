"""Rules: the rule packs (YAML data, `packs/`), the knowledge base (dated platform facts, package lists, prices,
`kb/`), rule classes for rules that need logic (`classes/`), and the small kernel every rule and the engine
share:

- `model`: `Rule` (what a pack entry loads into, with its plan data and examples), `Hit` (what a rule class
  returns), `RuleContext` (what it receives), `RuleClass` (the protocol it implements);
- `conditions`: the condition vocabulary of the rule language (`where:` / `unless:`) and the argument tests;
- `matching`: pattern rules against a file's facts, rule classes by name, the call names every rule needs;
- `loader`: the packs; `kb`: the knowledge base.
"""
from __future__ import annotations

from .kb import KB_DIR, load_kb
from .loader import PACKS_DIR, RULES_DIR, SCHEMA_PATH, load_pack_files, load_rules, load_schema, rules_by_id, \
    rules_with_role
from .model import Example, Hit, PlanInfo, Rule, RuleClass, RuleContext, RuleError

__all__ = ["KB_DIR", "PACKS_DIR", "RULES_DIR", "SCHEMA_PATH", "Example", "Hit", "PlanInfo", "Rule", "RuleClass",
           "RuleContext", "RuleError", "load_kb", "load_pack_files", "load_rules", "load_schema", "rules_by_id",
           "rules_with_role"]
