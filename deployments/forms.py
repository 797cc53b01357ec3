"""Each deployment's form (its parameter schema, which the Prefect UI renders), written for a coordinator.

Prefect builds the schema from the flow's signature but titles every field with the parameter's name and takes
descriptions from the docstring only. Here each field gets the title and description of its ``Field`` (in the
flow's ``Annotated`` type), the authority's exact formats and lists from the policy (a person id, a police
incident reference, the reasons a strategy meeting may be not required), and only the fields the deployment
shows (``DeploymentSpec.form``): engineers' settings stay off the form. A form with no hidden fixed parameters
also refuses unknown fields (``additionalProperties: false``), so the JSON editor cannot add one either.

The same checks run again in the flow (``missing_episodes.forms``): the UI can switch its checks off.
"""

from __future__ import annotations

import typing
from typing import Any

from prefect.utilities.callables import ParameterSchema
from pydantic import ConfigDict
from pydantic.fields import FieldInfo

from missing_episodes.forms import CHILD_REF, EPISODE_REF, all_reasons, event_of_label
from missing_episodes.policy import Policy


class FormSchema(ParameterSchema):
    """Prefect's schema model, keeping ``additionalProperties`` (Prefect's own model drops unknown keys)."""

    model_config = ConfigDict(extra="allow")


#: Titles and descriptions for flows whose signatures are not written with ``Field`` texts (the engine's flows).
TEXTS: dict[tuple[str, str], tuple[str, str]] = {
    ("daily-run", "day"): ("Day to brief for (YYYY-MM-DD)",
                           "Leave empty for today. Pick from the calendar; typed, 2026-11-02 is 2 November."),
    ("weekly-list", "week_ending"): ("Week ending on Sunday (YYYY-MM-DD)",
                                     "Leave empty for the week that ended last Sunday."),
    ("ingest-files", "kind"): ("Feed", "Which feed the files belong to."),
    ("ingest-files", "paths"): ("Files (paths on the worker's machine)",
                                "Each file's full path as the worker sees it; stored files are never deleted."),
    ("ingest-files", "source"): ("Source name", "Leave empty for the feed's usual source."),
    ("ingest-files", "run_rules"): ("Run the rules afterwards", "Untick only when loading several files in turn."),
}


def _plain_optional(schema: dict[str, Any]) -> dict[str, Any]:
    """``X | None = None`` as a plain optional X: Prefect's form shows the union as an "X / None" toggle."""
    options = schema.get("anyOf")
    if options and schema.get("default", "missing") is None:
        kept = [option for option in options if option.get("type") != "null"]
        if len(kept) == 1:
            schema = {**{k: v for k, v in schema.items() if k not in ("anyOf", "default")}, **kept[0]}
    return schema


def _either(*patterns: str) -> str:
    """Anchored alternatives as one pattern both JSON Schema (ECMA) and Python read the same way."""
    return "|".join(f"(?:{p})" for p in patterns)


def policy_formats(policy: Policy) -> dict[tuple[str, str], dict[str, Any]]:
    """(flow name, parameter) -> the schema keywords the policy decides."""
    forms = policy.forms
    child = {"pattern": _either(CHILD_REF.pattern, forms.person_id_pattern)}
    return {
        ("record-outcome", "child"): child,
        ("record-outcome", "incident_ref"): {"pattern": _either("^$", forms.incident_ref_pattern)},
        # The one vocabulary (missing_episodes.vocabulary): the events the feed and the CLI accept, as labels.
        ("record-outcome", "event"): {"enum": list(event_of_label(policy))},
        ("record-outcome", "reason"): {"enum": ["", *all_reasons(policy)]},
        ("regenerate-serious-notification", "episode"): {
            "pattern": _either(EPISODE_REF.pattern, forms.incident_ref_pattern)},
        ("regenerate-serious-notification", "rule"): {
            "enum": ["", *(r.id for r in policy.rules if r.action == "serious_notification")]},
    }


def _field_texts(flow: Any) -> dict[str, FieldInfo]:
    hints = typing.get_type_hints(flow.fn, include_extras=True)
    texts: dict[str, FieldInfo] = {}
    for name, hint in hints.items():
        for extra in getattr(hint, "__metadata__", ()):
            if isinstance(extra, FieldInfo):
                texts[name] = extra
    return texts


def form_schema(spec: Any, schema: ParameterSchema, policy: Policy) -> ParameterSchema:
    """``schema`` as the coordinator should see it (see the module docstring)."""
    data = schema.model_dump()
    properties: dict[str, dict[str, Any]] = data["properties"]
    if spec.form is not None:
        properties = {name: value for name, value in properties.items() if name in spec.form}
        data["required"] = [name for name in data.get("required", []) if name in properties]
    properties = {name: _plain_optional(value) for name, value in properties.items()}
    for (flow_name, name), (title, description) in TEXTS.items():
        if flow_name == spec.flow.name and name in properties:
            properties[name].update(title=title, description=description)
    for name, info in _field_texts(spec.flow).items():
        if name in properties:
            if info.title:
                properties[name]["title"] = info.title
            if info.description:
                properties[name]["description"] = info.description
    for (flow_name, name), keywords in policy_formats(policy).items():
        if flow_name == spec.flow.name and name in properties:
            properties[name].update(keywords)
            if "enum" in keywords:
                properties[name].pop("pattern", None)
    data["properties"] = properties
    if not spec.parameters:
        data["additionalProperties"] = False
    return FormSchema(**data)
