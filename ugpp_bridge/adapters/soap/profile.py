"""Wire profiles (SPEC §10): the annex as data, v1 as the canonical form.

A profile is a folder: ``profile.toml`` naming WSDLs, XSDs and XSLT 1.0 transforms, every path
relative to the folder and inside it. ``load_profile`` reads and compiles a folder once per
process; any problem is a ``ProfileError`` naming the file (and the line when there is one),
in Spanish, because the integrator who reads it adopts the annex.

Transforms run in lxml with network access and every write denied (``XSLTAccessControl``),
and may read only the profile's own files: ``document('')`` (a lookup table inside the
stylesheet, a common XSLT 1.0 idiom) and ``document()`` of a file in the folder resolve
through ``_FolderResolver``, which refuses any other path — the file that tried is named.
``xsl:include``/``xsl:import`` and the schemas' ``include``/``import``/``redefine`` may only
name files inside the folder (checked before anything compiles), and every XSLT compile message
counts as an error, since libxml2 logs some without raising. A transform left out is the
identity: the built-in ``v1`` has none.
"""

from __future__ import annotations

import hashlib
import threading
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lxml import etree

from ugpp_bridge.adapters.soap import wire
from ugpp_bridge.errors import ConfigurationError, InvalidInputError, SchemaValidationError

PROFILE_FILE = "profile.toml"
BUILTIN = "v1"
SETTING = "UGPP_BRIDGE_WIRE_PROFILE"
XSL_NS = "http://www.w3.org/1999/XSL/Transform"
_XPATH_ATTRIBUTES = ("select", "test")


# No network, no writing; reads go through ``_FolderResolver`` (the profile's own files only).
READ_FOLDER_ONLY = etree.XSLTAccessControl(  # type: ignore[call-arg]  # lxml-stubs 0.5 lack them
    read_file=True, write_file=False, create_dir=False, read_network=False, write_network=False
)


class OutsideFolder(Exception):
    """A transform asked for a file outside its profile folder."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.url = url


class _FolderResolver(etree.Resolver):
    """Serves what a transform reads from its profile folder; refuses anything else."""

    def __init__(self, folder: Path) -> None:
        super().__init__()
        self.folder = folder

    def resolve(self, url: str, pubid: str, context: Any) -> Any:  # type: ignore[override]
        if "://" in url and not url.startswith("file://"):
            raise OutsideFolder(url)
        path = (self.folder / url.removeprefix("file://")).resolve()
        if path.is_relative_to(self.folder) and path.is_file():
            return self.resolve_filename(str(path), context)  # type: ignore[attr-defined]
        raise OutsideFolder(url)


def _line_of(entries: list[Any]) -> int | None:
    return next((int(e.line) for e in entries if e.filename != "<string>" and e.line), None)


def _line(node: etree._Element) -> int | None:
    line: Any = node.sourceline  # lxml-stubs type it oddly
    return int(line or 0) or None


class ProfileError(ConfigurationError):
    """A profile that cannot be used: which file, where, and what is wrong (Spanish)."""

    def __init__(self, file: str, text: str, *, line: int | None = None) -> None:
        where = f"{file}, línea {line}" if line else file
        super().__init__(f"Perfil de intercambio, {where}: {text}", setting=SETTING)
        self.file, self.text, self.line = file, text, line


class TransformTerminated(InvalidInputError):
    """A transform refused its input with ``xsl:message terminate="yes"``: the file and the
    message's text (SPEC §10: a Paso 1 SolicitudInvalida, a rejection or an unreadable ack)."""

    def __init__(self, file: str, text: str) -> None:
        super().__init__(f"La transformación {file} del perfil se detuvo: {text}",
                         reason="terminated")  # fmt: skip
        self.file, self.text = file, text


@dataclass(frozen=True)
class Transform:
    """One compiled XSLT of a profile."""

    file: str  # relative to the profile folder
    xslt: etree.XSLT = field(repr=False)

    def __call__(
        self, document: etree._Element | etree._ElementTree, **params: str
    ) -> etree._Element:
        """The result's root element. ``TransformTerminated`` for ``xsl:message
        terminate="yes"``; ``ProfileError`` for any other failure or an empty result."""
        strings = {name: etree.XSLT.strparam(value) for name, value in params.items()}
        try:
            result = self.xslt(document, **strings)  # type: ignore[arg-type]
        except OutsideFolder as exc:
            raise ProfileError(
                self.file,
                f"la transformación intentó leer {exc.url}, fuera de la carpeta del "
                "perfil; solo puede leer los archivos del perfil.",
            ) from exc
        except etree.XSLTApplyError as exc:
            log: list[Any] = list(self.xslt.error_log)  # type: ignore[attr-defined]
            messages = [entry.message for entry in log if entry.filename == "<string>"]
            denied = next((m for m in messages if "refused" in m or "denied" in m), None)
            # xsl:message terminate logs only its own text; a failing XPath or instruction
            # logs its domain (XPATH) or the stylesheet's own file as well: a profile's bug.
            failed = [e for e in log if e.filename != "<string>" or e.domain_name != "XSLT"]
            if failed and denied is None:
                raise ProfileError(
                    self.file,
                    "la transformación falló al ejecutarse: "
                    + "; ".join(" ".join(str(e.message).split()) for e in failed[:2]),
                    line=_line_of(failed),
                ) from exc
            if denied is not None:
                raise ProfileError(
                    self.file,
                    "la transformación intentó usar la red o escribir un archivo, y eso no "
                    "se permite.",
                ) from exc
            raise TransformTerminated(self.file, " ".join(str(exc).split())) from exc
        except etree.XSLTError as exc:
            raise ProfileError(self.file, f"la transformación falló: {exc}") from exc
        root = result.getroot()
        if root is None:
            raise ProfileError(self.file, "la transformación no produjo ningún elemento.")
        return root


@dataclass(frozen=True)
class SchemaSet:
    """The XSDs of one edge: a document is valid under the one whose targetNamespace is its
    root's namespace."""

    files: tuple[str, ...]
    compiled: Mapping[str, tuple[str, etree.XMLSchema]] = field(repr=False)

    def validate(self, element: etree._Element) -> None:
        """``SchemaValidationError`` (named after the XSD) when ``element`` is not valid."""
        namespace = etree.QName(element).namespace or ""
        found = self.compiled.get(namespace)
        if found is None:
            raise SchemaValidationError(
                ", ".join(self.files),
                [(_line(element) or 0, f"no schema declares the namespace {namespace!r}")],
                [
                    wire.SchemaIssue(
                        _line(element) or 0,
                        etree.QName(element).localname,
                        "ningún esquema del perfil declara su espacio de nombres",
                    )
                ],  # fmt: skip
            )
        name, schema = found
        wire.validate_with(schema, name, element)


@dataclass(frozen=True)
class Paso1Edge:
    wsdl: Path
    schemas: SchemaSet
    request: Transform | None
    receipt: Transform | None


@dataclass(frozen=True)
class Paso2Edge:
    wsdl: Path
    operation: str
    service: str | None
    port: str | None
    schemas: SchemaSet
    lote: Transform | None
    ack: Transform | None
    max_records: int | None


@dataclass(frozen=True)
class WireProfile:
    """A loaded, compiled profile; ``files`` is its identity (relative path → SHA-256)."""

    name: str
    version: str
    folder: Path
    builtin: bool
    paso1: Paso1Edge
    paso2: Paso2Edge
    simulator_request: Transform | None
    simulator_ack: Transform | None
    example_request: Path | None
    example_ack: Path | None
    files: tuple[tuple[str, str], ...]

    @property
    def is_v1(self) -> bool:
        """True for the built-in profile: every transform is the identity."""
        return self.builtin

    @property
    def label(self) -> str:
        return f"{self.name} {self.version}"

    def identity(self) -> dict[str, Any]:
        """What the evidence records of the profile (SPEC §10)."""
        return {"nombre": self.name, "version": self.version, "archivos": dict(self.files)}

    def differing_files(self, recorded: Mapping[str, str]) -> list[str]:
        """The files whose hash differs from ``recorded`` (or that only one side has)."""
        mine = dict(self.files)
        return sorted(name for name in set(mine) | set(recorded)
                      if mine.get(name) != recorded.get(name))  # fmt: skip


def builtin_folder() -> Path:
    return wire.V1_PROFILE_DIR


_LOADED: dict[Path, WireProfile] = {}
_LOCK = threading.Lock()


def load_profile(setting: str | Path | None = None) -> WireProfile:
    """The profile ``setting`` names (``v1``/empty: the built-in one, else a folder), compiled
    once per process."""
    text = str(setting or BUILTIN).strip()
    builtin = text == BUILTIN
    folder = (builtin_folder() if builtin else Path(text).expanduser()).resolve()
    with _LOCK:
        loaded = _LOADED.get(folder)
        if loaded is None:
            loaded = _LOADED[folder] = _Loader(folder, builtin).load()
        return loaded


def compile_again(profile: WireProfile) -> WireProfile:
    """The same profile compiled anew, for a thread of its own (lxml's compiled stylesheets
    and schemas keep per-object error logs; a thread uses its own objects)."""
    again = _Loader(profile.folder, profile.builtin).load()
    if again.files != profile.files:
        changed = again.differing_files(dict(profile.files))
        raise ProfileError(", ".join(changed), "el perfil cambió en disco mientras se usaba; "
                           "vuelva a construir con el perfil actual.")  # fmt: skip
    return again


def forget_loaded() -> None:
    """Drop the compiled profiles (tests that edit a folder in place)."""
    with _LOCK:
        _LOADED.clear()


class _Loader:
    def __init__(self, folder: Path, builtin: bool) -> None:
        self.folder, self.builtin = folder, builtin
        self.hashed: dict[str, str] = {}

    def load(self) -> WireProfile:
        if not self.folder.is_dir():
            raise ProfileError(str(self.folder), "la carpeta del perfil no existe.")
        config = self._toml()
        paso1 = self._table(config, "paso1", required=True)
        paso2 = self._table(config, "paso2", required=True)
        simulator = self._table(config, "simulator")
        examples = self._table(config, "examples")
        max_records = paso2.get("max_records")
        if max_records is not None and (not isinstance(max_records, int) or max_records < 1):
            raise ProfileError(PROFILE_FILE, "paso2.max_records debe ser un entero positivo.")
        return WireProfile(
            name=self._text(config, "name", required=True),
            version=self._text(config, "version", required=True),
            folder=self.folder,
            builtin=self.builtin,
            paso1=Paso1Edge(
                wsdl=self._wsdl(paso1, "paso1.wsdl"),
                schemas=self._schemas(paso1, "paso1.schemas"),
                request=self._transform(paso1, "paso1.request"),
                receipt=self._transform(paso1, "paso1.receipt"),
            ),
            paso2=Paso2Edge(
                wsdl=self._wsdl(paso2, "paso2.wsdl"),
                operation=self._text(paso2, "operation", required=True, key="paso2.operation"),
                service=self._text(paso2, "service", key="paso2.service") or None,
                port=self._text(paso2, "port", key="paso2.port") or None,
                schemas=self._schemas(paso2, "paso2.schemas"),
                lote=self._transform(paso2, "paso2.lote"),
                ack=self._transform(paso2, "paso2.ack"),
                max_records=max_records,
            ),
            simulator_request=self._transform(simulator, "simulator.request"),
            simulator_ack=self._transform(simulator, "simulator.ack"),
            example_request=self._optional_file(examples, "examples.request"),
            example_ack=self._optional_file(examples, "examples.ack"),
            files=tuple(sorted(self.hashed.items())),
        )

    # -- profile.toml ---------------------------------------------------------------------------

    def _toml(self) -> dict[str, Any]:
        path = self.folder / PROFILE_FILE
        if not path.is_file():
            raise ProfileError(PROFILE_FILE, f"no existe en la carpeta {self.folder}.")
        data = path.read_bytes()
        self.hashed[PROFILE_FILE] = hashlib.sha256(data).hexdigest()
        try:
            return tomllib.loads(data.decode("utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            line = getattr(exc, "lineno", None)
            raise ProfileError(PROFILE_FILE, f"no es TOML válido ({exc}).", line=line) from exc

    def _table(self, config: Mapping[str, Any], name: str, *, required: bool = False) -> Any:
        table = config.get(name)
        if table is None and not required:
            return {}
        if not isinstance(table, dict):
            raise ProfileError(PROFILE_FILE, f"falta la sección [{name}].")
        return table

    def _text(
        self, table: Mapping[str, Any], name: str, *, required: bool = False, key: str = ""
    ) -> str:
        value = table.get(name, "")
        if not isinstance(value, str | int | float) or (required and not str(value).strip()):
            raise ProfileError(PROFILE_FILE, f"falta «{key or name}» (un texto).")
        return str(value).strip()

    # -- files ----------------------------------------------------------------------------------

    def _file(self, relative: str, key: str) -> Path:
        if not isinstance(relative, str) or not relative.strip():
            raise ProfileError(PROFILE_FILE, f"«{key}» debe ser la ruta de un archivo.")
        path = (self.folder / relative).resolve()
        if not path.is_relative_to(self.folder):
            raise ProfileError(
                PROFILE_FILE, f"«{key}» nombra {relative}, que está fuera de la carpeta del perfil."
            )
        if not path.is_file():
            raise ProfileError(PROFILE_FILE, f"«{key}» nombra {relative}, que no existe.")
        self._hash(path)
        return path

    def _hash(self, path: Path) -> None:
        self.hashed[path.relative_to(self.folder).as_posix()] = hashlib.sha256(
            path.read_bytes()
        ).hexdigest()

    def _optional_file(self, table: Mapping[str, Any], key: str) -> Path | None:
        name = key.split(".")[1]
        return self._file(table[name], key) if name in table else None

    def _parse(self, path: Path) -> etree._ElementTree:
        try:
            return etree.parse(str(path), wire.secure_parser())
        except etree.XMLSyntaxError as exc:
            raise ProfileError(
                self._relative(path), f"no es XML bien formado ({exc.msg}).", line=exc.lineno
            ) from exc

    def _relative(self, path: Path) -> str:
        return path.relative_to(self.folder).as_posix()

    def _references(self, path: Path, tags: Iterable[str], attribute: str) -> list[Path]:
        """Every file ``path`` pulls in (recursively), each inside the folder and hashed."""
        seen: list[Path] = []
        pending = [path]
        while pending:
            current = pending.pop()
            tree = self._parse(current)
            for tag in tags:
                for node in tree.iter(tag):
                    href = node.get(attribute)
                    if href is None:
                        continue
                    target = (current.parent / href).resolve()
                    if "://" in href or not target.is_relative_to(self.folder):
                        raise ProfileError(
                            self._relative(current),
                            f"«{etree.QName(node).localname}» apunta a {href}, fuera de la "
                            "carpeta del perfil; solo se permiten archivos de la carpeta.",
                            line=_line(node),
                        )
                    if not target.is_file():
                        raise ProfileError(self._relative(current), f"{href} no existe.",
                                           line=_line(node))  # fmt: skip
                    if target not in seen:
                        seen.append(target)
                        self._hash(target)
                        pending.append(target)
        return seen

    def _wsdl(self, table: Mapping[str, Any], key: str) -> Path:
        path = self._file(table.get("wsdl", ""), key)
        self._references(
            path,
            (f"{{{wire.XS_NS}}}import", f"{{{wire.XS_NS}}}include"),
            "schemaLocation",
        )
        self._references(path, (f"{{{wire.WSDL_NS}}}import",), "location")
        return path

    def _schemas(self, table: Mapping[str, Any], key: str) -> SchemaSet:
        files = table.get("schemas")
        if not isinstance(files, list) or not files:
            raise ProfileError(PROFILE_FILE, f"«{key}» debe listar al menos un XSD.")
        compiled: dict[str, tuple[str, etree.XMLSchema]] = {}
        names = []
        for relative in files:
            path = self._file(relative, key)
            names.append(self._relative(path))
            self._references(
                path,
                tuple(f"{{{wire.XS_NS}}}{tag}" for tag in ("import", "include", "redefine")),
                "schemaLocation",
            )
            tree = self._parse(path)
            try:
                schema = (
                    wire.schema(path) if self.builtin else etree.XMLSchema(tree)
                )  # v1 shares the process's cache with the rest of the wire
            except etree.XMLSchemaParseError as exc:
                entry = exc.error_log[0] if len(exc.error_log) else None
                raise ProfileError(
                    self._relative(path),
                    f"el esquema no compila: {entry.message if entry else exc}",
                    line=entry.line if entry else None,
                ) from exc
            namespace = tree.getroot().get("targetNamespace") or ""
            compiled[namespace] = (self._relative(path), schema)
        return SchemaSet(tuple(names), compiled)

    def _transform(self, table: Mapping[str, Any], key: str) -> Transform | None:
        name = key.split(".")[1]
        if name not in table:
            return None
        path = self._file(table[name], key)
        relative = self._relative(path)
        self._references(path, (f"{{{XSL_NS}}}include", f"{{{XSL_NS}}}import"), "href")
        parser = wire.secure_parser()
        parser.resolvers.add(_FolderResolver(self.folder))
        try:
            tree = etree.parse(str(path), parser)
        except etree.XMLSyntaxError as exc:
            raise ProfileError(relative, f"no es XML bien formado ({exc.msg}).",
                               line=exc.lineno) from exc  # fmt: skip
        self._check_xpaths(tree, relative)
        try:
            xslt = etree.XSLT(tree, access_control=READ_FOLDER_ONLY)
        except etree.XSLTParseError as exc:
            raise self._compile_error(relative, list(exc.error_log), str(exc)) from exc
        messages = list(xslt.error_log)  # type: ignore[attr-defined]
        if messages:
            raise self._compile_error(relative, messages, "")
        return Transform(relative, xslt)

    def _check_xpaths(self, tree: etree._ElementTree, relative: str) -> None:
        """libxml2 compiles an XSLT whose ``select`` is not XPath and only fails when the
        template runs: each expression is compiled here first."""
        for node in tree.iter():
            if not isinstance(node.tag, str) or not node.tag.startswith(f"{{{XSL_NS}}}"):
                continue
            for attribute in _XPATH_ATTRIBUTES:
                expression = node.get(attribute)
                if expression is None:
                    continue
                namespaces = {k: v for k, v in node.nsmap.items() if k}
                try:
                    etree.XPath(expression, namespaces=namespaces)
                except etree.XPathSyntaxError as exc:
                    raise ProfileError(
                        relative,
                        f"la expresión XPath «{expression}» de «{etree.QName(node).localname}» "
                        f"no es válida ({exc}). 1 mensaje del compilador.",
                        line=_line(node),
                    ) from exc

    def _compile_error(self, relative: str, entries: list[Any], fallback: str) -> ProfileError:
        first = entries[0] if entries else None
        count = len(entries) or 1
        text = first.message if first is not None else fallback
        noun = "mensaje" if count == 1 else "mensajes"
        return ProfileError(
            relative,
            f"la transformación no compila ({count} {noun} del compilador XSLT; el primero: "
            f"{' '.join(str(text).split())}).",
            line=(first.line or None) if first is not None else None,
        )
