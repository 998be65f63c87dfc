"""The container build, checked without a Docker engine.

``docker-compose.yml`` is validated against the Compose Specification's JSON Schema
(kept beside the project in ``../shared/schemas``), and every value newsflow reads
from it is checked against the code: each worker's command against the CLI parser,
each environment variable against ``Settings``, the stop grace period against the
graceful timeout. The ``Dockerfile`` is parsed for what the image must do: install
with ``constraints.txt`` before copying the source, run as ``newsflow``, and copy
only files that exist and that ``.dockerignore`` lets through.
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import AliasChoices

from shared.settings import Settings

REPO = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO / "docker-compose.yml"
DOCKERFILE = REPO / "Dockerfile"
DOCKERIGNORE = REPO / ".dockerignore"
COMPOSE_SCHEMA = REPO.parent / "shared" / "schemas" / "compose-spec.json"
CONSTRAINTS = "constraints.txt"

WORKERS = ("ingest", "enrich", "sink", "deliver")
REQUIRED_PLACEHOLDER = "set-by-the-operator"


# --- helpers ------------------------------------------------------------------


_INTERPOLATION = re.compile(
    r"\$\$|\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?+])(?P<arg>[^}]*))?\}"
    r"|\$(?P<bare>[A-Za-z_][A-Za-z0-9_]*)"
)


def interpolate_unset(value: str) -> str:
    """``value`` as Compose interpolates it when no variable is set.

    ``${X:-default}`` gives the default, ``${X:?message}`` (a variable the operator
    must set) gives a placeholder, ``${X}`` and ``${X:+alt}`` give nothing.
    """

    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        op = match.group("op") or ""
        if op.endswith("-"):
            return match.group("arg")
        if op.endswith("?"):
            return REQUIRED_PLACEHOLDER
        return ""

    return _INTERPOLATION.sub(replace, value)


_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)")
_DURATION_SECONDS = {
    "ns": 1e-9,
    "us": 1e-6,
    "µs": 1e-6,
    "ms": 1e-3,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
}


def duration_seconds(value: str) -> float:
    """A Compose duration (Go syntax: ``30s``, ``1m30s``, ``500ms``) in seconds."""
    if not re.fullmatch(rf"(?:{_DURATION_PART.pattern})+", value):
        raise ValueError(f"not a Compose duration: {value!r}")
    return sum(
        float(number) * _DURATION_SECONDS[unit] for number, unit in _DURATION_PART.findall(value)
    )


def environment_of(service: dict[str, Any]) -> dict[str, str | None]:
    """A service's ``environment``, in either the mapping or the ``KEY=VALUE`` list form."""
    env = service.get("environment") or {}
    if isinstance(env, dict):
        return {str(k): None if v is None else str(v) for k, v in env.items()}
    pairs = (item.partition("=") for item in env)
    return {key: value if sep else None for key, sep, value in pairs}


def command_words(command: str | list[str]) -> list[str]:
    return shlex.split(command) if isinstance(command, str) else [str(w) for w in command]


def setting_env_names() -> set[str]:
    """Every environment variable ``Settings`` reads, derived from its fields."""
    prefix = str(Settings.model_config.get("env_prefix", ""))
    names: set[str] = set()
    for field_name, field in Settings.model_fields.items():
        alias = field.validation_alias or field.alias
        if isinstance(alias, AliasChoices):
            names.update(choice.upper() for choice in alias.choices if isinstance(choice, str))
        elif isinstance(alias, str):
            names.add(alias.upper())
        else:
            names.add(f"{prefix}{field_name}".upper())
    return names


@dataclass(frozen=True)
class Instruction:
    line: int
    keyword: str
    args: str


def dockerfile_instructions(text: str) -> list[Instruction]:
    """The Dockerfile's instructions, continuation lines joined, comments dropped."""
    instructions: list[Instruction] = []
    pending: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if pending and stripped.startswith("#"):
            continue  # a comment inside a continued instruction
        if not pending:
            start = number
        if stripped.endswith("\\"):
            pending.append(stripped[:-1].strip())
            continue
        pending.append(stripped)
        keyword, _, args = " ".join(part for part in pending if part).partition(" ")
        instructions.append(Instruction(start, keyword.upper(), args.strip()))
        pending = []
    return instructions


def exec_form(args: str) -> list[str]:
    """The JSON array of an exec-form instruction (``ENTRYPOINT ["newsflow"]``)."""
    value = json.loads(args)
    assert isinstance(value, list), f"expected a JSON array, got {args!r}"
    return [str(word) for word in value]


def copy_sources(instruction: Instruction) -> list[str] | None:
    """Source paths of a COPY/ADD from the build context; ``None`` for ``--from=``."""
    words = shlex.split(instruction.args)
    flags = [w for w in words if w.startswith("--")]
    if any(flag.startswith("--from") for flag in flags):
        return None
    paths = [w for w in words if not w.startswith("--")]
    if paths and paths[0].startswith("["):
        paths = exec_form(" ".join(paths))
    return paths[:-1]


def dockerignore_excludes(path: str, patterns: list[str]) -> bool:
    """Whether ``.dockerignore`` keeps ``path`` (relative to the context) out.

    Docker's rules: the last matching pattern wins, ``!`` re-includes, and a
    pattern that matches a directory excludes everything under it.
    """
    parts = Path(path.rstrip("/")).parts
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    excluded = False
    for raw in patterns:
        negated = raw.startswith("!")
        pattern = raw[1:] if negated else raw
        regex = _ignore_pattern(pattern.strip().lstrip("/").removeprefix("./").rstrip("/"))
        if any(regex.fullmatch(candidate) for candidate in candidates):
            excluded = not negated
    return excluded


def _ignore_pattern(pattern: str) -> re.Pattern[str]:
    """A ``.dockerignore`` pattern as a regex: ``*`` stays within one path segment,
    ``**`` spans any number of them (none included)."""
    out: list[str] = []
    for token in re.split(r"(\*\*/|\*\*|\*|\?|\[[^]]*\])", pattern):
        if token == "**/":
            out.append("(?:.*/)?")
        elif token == "**":
            out.append(".*")
        elif token == "*":
            out.append("[^/]*")
        elif token == "?":
            out.append("[^/]")
        elif token.startswith("[") and token.endswith("]") and len(token) > 2:
            out.append(token.replace("[!", "[^", 1))
        else:
            out.append(re.escape(token))
    return re.compile("".join(out))


def first_failing_parse(command: list[str]) -> str | None:
    """``None`` if ``newsflow <command>`` parses, else the reason it does not."""
    from services.cli import build_parser

    try:
        build_parser().parse_args(command)
    except SystemExit as exit_:
        return f"argparse exited with status {exit_.code}"
    return None


# --- fixtures -----------------------------------------------------------------


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    assert isinstance(data, dict), "docker-compose.yml must be a mapping"
    return data


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return dict(compose["services"])


@pytest.fixture(scope="module")
def newsflow_services(services: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The services built from this repository's Dockerfile."""
    return {name: svc for name, svc in services.items() if "build" in svc}


@pytest.fixture(scope="module")
def instructions() -> list[Instruction]:
    return dockerfile_instructions(DOCKERFILE.read_text(encoding="utf-8"))


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No setting leaks in from the environment the tests run in."""
    for name in setting_env_names():
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


# --- (a) the Compose Specification ----------------------------------------------


def test_compose_file_validates_against_the_compose_specification(
    compose: dict[str, Any],
) -> None:
    if not COMPOSE_SCHEMA.is_file():
        pytest.skip(f"Compose Specification schema not found at {COMPOSE_SCHEMA}")
    from jsonschema import Draft7Validator

    schema = json.loads(COMPOSE_SCHEMA.read_text(encoding="utf-8"))
    # Picked explicitly: jsonschema does not recognise the schema's https:// $schema URI.
    assert "draft-07" in schema["$schema"], f"schema draft changed: {schema['$schema']}"
    Draft7Validator.check_schema(schema)
    errors = sorted(
        Draft7Validator(schema).iter_errors(compose), key=lambda e: list(e.absolute_path)
    )
    messages = [f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}" for e in errors]
    assert messages == []
    assert "version" not in compose, "the Compose Specification has no `version:` key"


# --- (b) commands the CLI accepts ---------------------------------------------------


def test_the_newsflow_image_runs_exactly_the_four_workers(
    newsflow_services: dict[str, dict[str, Any]],
) -> None:
    assert sorted(newsflow_services) == sorted(WORKERS)
    images = {svc.get("image") for svc in newsflow_services.values()}
    assert len(images) == 1, f"one image for every service, got {images}"


@pytest.mark.parametrize("name", WORKERS)
def test_worker_command_is_a_real_cli_command(
    name: str, newsflow_services: dict[str, dict[str, Any]]
) -> None:
    command = newsflow_services[name]["command"]
    assert isinstance(command, list), "exec form, so no shell stands between Docker and newsflow"
    assert command[:2] == ["worker", name]
    assert first_failing_parse(command_words(command)) is None


def test_image_default_command_is_a_real_cli_command(instructions: list[Instruction]) -> None:
    cmd = [i for i in instructions if i.keyword == "CMD"]
    assert cmd, "the Dockerfile has no CMD"
    default = exec_form(cmd[-1].args)
    assert default[:1] == ["worker"]
    assert first_failing_parse(default) is None


# --- (c) environment variables are settings ----------------------------------------


@pytest.mark.parametrize("name", WORKERS)
def test_every_environment_variable_is_a_setting(
    name: str, newsflow_services: dict[str, dict[str, Any]]
) -> None:
    known = setting_env_names()
    env = environment_of(newsflow_services[name])
    assert env, f"{name} sets no environment"
    unknown = sorted(key for key in env if key.upper() not in known)
    assert unknown == [], f"{name} sets variables no setting reads: {unknown}"


@pytest.mark.parametrize("name", WORKERS)
def test_environment_defaults_are_valid_settings(
    name: str, newsflow_services: dict[str, dict[str, Any]], clean_env: pytest.MonkeyPatch
) -> None:
    for key, value in environment_of(newsflow_services[name]).items():
        if value is not None:
            clean_env.setenv(key, interpolate_unset(value))
    settings = Settings()  # raises ValidationError, naming the variable, on a bad value
    assert settings.redis_url == "redis://redis:6379/0"
    assert settings.data_dir == Path("/data")


def test_dockerfile_environment_variables_are_settings(instructions: list[Instruction]) -> None:
    known = setting_env_names()
    names: list[str] = []
    for instruction in instructions:
        if instruction.keyword != "ENV":
            continue
        words = shlex.split(instruction.args)
        if "=" in words[0]:
            names += [word.partition("=")[0] for word in words]
        else:  # the legacy `ENV NAME value` form
            names.append(words[0])
    ours = [n for n in names if n.startswith("NEWSFLOW_")]
    assert "NEWSFLOW_DATA_DIR" in ours
    assert sorted(n for n in ours if n not in known) == []


def test_ingest_serves_http_on_all_interfaces_with_a_required_key(
    services: dict[str, dict[str, Any]], clean_env: pytest.MonkeyPatch
) -> None:
    ingest = services["ingest"]
    env = environment_of(ingest)
    assert env["NEWSFLOW_API_HOST"] == "0.0.0.0"
    assert re.fullmatch(r"\$\{NEWSFLOW_API_KEY:\?[^}]+\}", env["NEWSFLOW_API_KEY"] or ""), (
        "the API key must be a variable the operator has to set, with no default"
    )
    port = str(env.get("NEWSFLOW_API_PORT") or Settings().api_port)
    published = [interpolate_unset(str(p)) for p in ingest["ports"]]
    assert any(p.rsplit(":", 1)[-1] == port for p in published), (published, port)
    probe = " ".join(command_words(ingest["healthcheck"]["test"]))
    assert f"127.0.0.1:{port}/healthz" in probe


# --- (d) Redis, start order and shutdown --------------------------------------------


@pytest.mark.parametrize("name", WORKERS)
def test_worker_waits_for_a_healthy_redis(
    name: str, newsflow_services: dict[str, dict[str, Any]]
) -> None:
    depends_on = newsflow_services[name]["depends_on"]
    assert isinstance(depends_on, dict), "the list form of depends_on waits for nothing"
    assert depends_on["redis"]["condition"] == "service_healthy"
    assert newsflow_services[name]["restart"] == "unless-stopped"


def test_redis_persists_with_aof_and_has_a_healthcheck(
    compose: dict[str, Any], services: dict[str, dict[str, Any]]
) -> None:
    redis = services["redis"]
    words = command_words(redis["command"])
    assert words[0] == "redis-server"
    assert "--appendonly" in words
    assert words[words.index("--appendonly") + 1] == "yes"
    probe = " ".join(command_words(redis["healthcheck"]["test"]))
    assert "redis-cli" in probe
    assert "ping" in probe
    assert not redis["healthcheck"].get("disable", False)
    # An append-only file on the container's own layer dies with the container.
    volumes = [str(v) for v in redis["volumes"]]
    data_mounts = [v.split(":", 1)[0] for v in volumes if v.split(":")[1:2] == ["/data"]]
    assert data_mounts, f"nothing mounted on redis:/data: {volumes}"
    assert data_mounts[0] in (compose.get("volumes") or {})


@pytest.mark.parametrize("name", WORKERS)
def test_stop_grace_period_outlasts_the_graceful_timeout(
    name: str, newsflow_services: dict[str, dict[str, Any]], clean_env: pytest.MonkeyPatch
) -> None:
    service = newsflow_services[name]
    configured = environment_of(service).get("NEWSFLOW_GRACEFUL_TIMEOUT")
    if configured is not None:
        clean_env.setenv("NEWSFLOW_GRACEFUL_TIMEOUT", interpolate_unset(configured))
    graceful = Settings().graceful_timeout
    grace = duration_seconds(str(service["stop_grace_period"]))
    assert grace > graceful, f"{name}: Docker kills after {grace}s, drain takes up to {graceful}s"


def test_duration_parser_reads_compose_durations() -> None:
    assert duration_seconds("30s") == 30
    assert duration_seconds("1m30s") == 90
    assert duration_seconds("1h") == 3600
    assert duration_seconds("1500ms") == 1.5
    with pytest.raises(ValueError, match="not a Compose duration"):
        duration_seconds("30")


def test_interpolation_reads_defaults_and_required_variables() -> None:
    assert interpolate_unset("${A:-INFO}") == "INFO"
    assert interpolate_unset("${A-x}:${B:?must be set}") == f"x:{REQUIRED_PLACEHOLDER}"
    assert interpolate_unset("$$HOME ${A} $B") == "$HOME  "


# --- (e) the Dockerfile ---------------------------------------------------------


def test_dependencies_install_with_constraints_before_the_source_is_copied(
    instructions: list[Instruction],
) -> None:
    runs = [i for i in instructions if i.keyword == "RUN"]
    constrained = [
        i
        for i in runs
        if re.search(rf"pip install\b.*(?:-c|--constraint)[ =]\S*{re.escape(CONSTRAINTS)}", i.args)
    ]
    assert constrained, "no RUN installs with `pip install -c constraints.txt`"
    deps_line = constrained[0].line
    source_copies = [
        i
        for i in instructions
        if i.keyword == "COPY"
        and any(src.rstrip("/") in ("services", "shared", ".") for src in copy_sources(i) or [])
    ]
    assert source_copies, "the Dockerfile never copies services/ and shared/"
    assert all(i.line > deps_line for i in source_copies), (
        "the dependency layer must not depend on the source"
    )
    project_installs = [i for i in runs if i.line > deps_line and "pip install" in i.args]
    assert project_installs, "the project itself is never installed"
    assert all("--no-deps" in i.args for i in project_installs)
    copied = [src for i in instructions if i.keyword == "COPY" for src in copy_sources(i) or []]
    assert CONSTRAINTS in copied


def test_image_runs_newsflow_as_a_non_root_user(instructions: list[Instruction]) -> None:
    entrypoints = [i for i in instructions if i.keyword == "ENTRYPOINT"]
    assert entrypoints, "the Dockerfile has no ENTRYPOINT"
    assert exec_form(entrypoints[-1].args) == ["newsflow"]
    last_stage = max(i.line for i in instructions if i.keyword == "FROM")
    users = [i.args for i in instructions if i.keyword == "USER" and i.line > last_stage]
    assert users, "the final stage runs as root"
    assert users[-1].split(":")[0] not in ("root", "0")
    exposed = [w for i in instructions if i.keyword == "EXPOSE" for w in i.args.split()]
    assert str(Settings.model_fields["api_port"].default) in exposed


def test_every_copied_path_exists_and_is_in_the_build_context(
    instructions: list[Instruction],
) -> None:
    patterns = [
        line.strip()
        for line in DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.strip().startswith("#")
    ]
    sources = [
        src for i in instructions if i.keyword in ("COPY", "ADD") for src in copy_sources(i) or []
    ]
    assert sources, "the Dockerfile copies nothing from the build context"
    ignored = [src for src in sources if dockerignore_excludes(src, patterns)]
    assert ignored == [], f".dockerignore keeps out what the Dockerfile copies: {ignored}"
    missing = [src for src in sources if not any(REPO.glob(src.rstrip("/")))]
    not_yet = [src for src in missing if src == CONSTRAINTS]
    assert [src for src in missing if src not in not_yet] == []
    if not_yet:
        pytest.skip(f"{CONSTRAINTS} is not in the repository yet; every other COPY source exists")


def test_dockerignore_keeps_local_state_out_of_the_context() -> None:
    patterns = [
        line.strip()
        for line in DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.strip().startswith("#")
    ]
    for path in (".git", ".venv", "data", ".env", "tests", "shared/__pycache__"):
        assert dockerignore_excludes(path, patterns), path
    for path in ("services", "shared", "seeds", "pyproject.toml", CONSTRAINTS):
        assert not dockerignore_excludes(path, patterns), path


def test_constraints_file_holds_only_version_pins() -> None:
    path = REPO / CONSTRAINTS
    if not path.is_file():
        pytest.skip(f"{CONSTRAINTS} is not in the repository yet")
    lines = [
        line.split("#", 1)[0].strip()
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.split("#", 1)[0].strip()
    ]
    # pip rejects editable, URL and unnamed constraints ("Unnamed requirements are not
    # allowed as constraints"): freeze with `pip freeze --exclude-editable`.
    pin = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*==[^\s;@]+(?:\s*;.+)?")
    assert [line for line in lines if not pin.fullmatch(line)] == []
    assert not any(re.match(r"newsflow==", line, re.IGNORECASE) for line in lines), (
        "the project itself is installed from source, not pinned"
    )


# --- (g) what a newcomer tripped on ----------------------------------------------------


@pytest.mark.parametrize("name", ["ingest", "sink"])
def test_a_password_with_url_characters_reaches_postgres_intact(
    name: str, newsflow_services: dict[str, dict[str, Any]], clean_env: pytest.MonkeyPatch
) -> None:
    from psycopg.conninfo import conninfo_to_dict

    password = "p@ss:w/rd%?#"
    for key, value in environment_of(newsflow_services[name]).items():
        if value is not None:
            clean_env.setenv(
                key, interpolate_unset(value.replace("${POSTGRES_PASSWORD}", password))
            )
    params = conninfo_to_dict(Settings().resolved_database_url)
    assert params["password"] == password
    assert (params["user"], params["host"], params["dbname"]) == (
        "newsflow",
        "postgres",
        "newsflow",
    )


def test_enrich_does_not_wait_for_postgres(newsflow_services: dict[str, dict[str, Any]]) -> None:
    assert set(newsflow_services["enrich"]["depends_on"]) == {"redis"}
    assert set(newsflow_services["deliver"]["depends_on"]) == {"redis"}
    assert set(newsflow_services["sink"]["depends_on"]) == {"redis", "postgres"}


def test_images_are_pinned_to_a_release(
    services: dict[str, dict[str, Any]], instructions: list[Instruction]
) -> None:
    release = re.compile(r"[\w./-]+:\d+\.\d+(?:\.\d+)?(?:-[\w.]+)?")
    for name in ("redis", "postgres"):
        assert release.fullmatch(services[name]["image"]), services[name]["image"]
    [python] = [i.args for i in instructions if i.keyword == "ARG" and "PYTHON_IMAGE" in i.args]
    assert release.fullmatch(python.partition("=")[2]), python


def test_image_declares_no_anonymous_volume(instructions: list[Instruction]) -> None:
    """A VOLUME gives every container without a mount there (each enrich replica)
    an anonymous volume that outlives it."""
    assert [i.args for i in instructions if i.keyword == "VOLUME"] == []


def test_password_goes_into_a_url_only_when_it_has_none() -> None:
    with_user = Settings(database_url="postgresql://u@h/db", database_password="a b")
    assert with_user.resolved_database_url == "postgresql://u:a%20b@h/db"
    own = Settings(database_url="postgresql://u:mine@h/db", database_password="other")
    assert own.resolved_database_url == "postgresql://u:mine@h/db"
    sqlite = Settings(database_url="sqlite:///x.db", database_password="other")
    assert sqlite.resolved_database_url == "sqlite:///x.db"
    assert "other" not in repr(own)


def test_the_env_file_with_secrets_is_never_committed() -> None:
    ignored = (Path(__file__).resolve().parents[2] / ".gitignore").read_text().split()
    assert ".env" in ignored
    example = (Path(__file__).resolve().parents[2] / ".env.example").read_text()
    assert "cp .env.example .env" in example and "never commit .env" in example
