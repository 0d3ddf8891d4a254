"""Every error the bridge raises on purpose.

One root, so that an entrypoint can tell our own, expected failures (shown to the operator as
``Type: message``) from bugs (logged with a traceback)::

    UgppBridgeError
    ├── ConfigurationError          a setting is missing or malformed
    ├── NotAuthorizedError          a SOAP caller failed WS-Security (``NoAutorizado``)
    ├── InvalidInputError           a value breaks a rule of the contract (code, identifier, date)
    │   ├── InvalidRequestError     a Solicitud that cannot be accepted as it is
    │   │   ├── WrongOperatorError  addressed to another NIT (``NitOperadorIncorrecto``)
    │   │   └── RequestTooLargeError over the size limits (``SolicitudDemasiadoGrande``)
    │   └── SchemaValidationError   an XML document breaks xsd/ (element, line, reason)
    ├── StateError                  the bridge's own store refuses or cannot do an action
    │   ├── IllegalTransitionError  the lifecycle (SPEC §5) does not allow that state change
    │   ├── RequestNotFoundError    no request has that radicado or idSolicitud
    │   ├── AmbiguousIdentifierError an operator's ID is one request's radicado and another's
    │   │                           idSolicitud (``radicado:`` / ``solicitud:`` picks one)
    │   ├── ConflictingRequestError the same idSolicitud arrived with different content
    │   ├── WorkInProgressError     another process holds the request's work lease
    │   ├── ApprovalRefusedError    not an officer, the officer's own build, or no reason given
    │   ├── UserExistsError         a dashboard account with that name already exists
    │   └── StoreUnavailableError   the state database cannot be reached or written
    ├── RemoteError                 a SOAP service we call failed
    │   ├── RemoteFaultError        it answered a SOAP fault (``fault_code``)
    │   ├── CredentialsRefusedError its token service (or the service) refused our credentials
    │   ├── RemoteUnavailableError  it could not be reached, or timed out
    │   └── DirectoryUnavailableError the entity's directory (LDAP) did not answer: sign-in is
    │                               refused, never decided without it (Spanish message)
    └── SourceError                 the entity's source data cannot be used
        ├── SourceUnavailableError  the source database cannot be reached or read
        ├── SourceDataError         the data breaks the source contract (SPEC §3)
        └── SourceImportError       a CSV file to import has bad lines

Messages are whole sentences that say what to do next. They never hold balances; they may
name source keys (account or title ids) because the operator needs them to fix the data.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


class UgppBridgeError(Exception):
    """Root of every error the bridge raises on purpose."""


class ConfigurationError(UgppBridgeError):
    """A setting is missing or malformed; the message names the setting."""

    def __init__(self, message: str, *, setting: str | None = None) -> None:
        super().__init__(message)
        self.setting = setting
        self.problems: tuple[str, ...] = ()  # every invalid setting, one line each


class InvalidInputError(UgppBridgeError):
    """A value breaks a rule of the contract: an unknown code, a malformed identifier.

    ``reason`` is a stable word for what is wrong (``duplicated``, ``out_of_range``,
    ``digits_only``, ``malformed``...), so that a SOAP fault can say it in Spanish.
    """

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        value: object = None,
        reason: str | None = None,
    ) -> None:
        super().__init__(message)
        self.field = field
        self.value = value
        self.reason = reason


class InvalidRequestError(InvalidInputError):
    """A Solicitud that cannot be accepted as it is (SOAP fault ``SolicitudInvalida``)."""


class WrongOperatorError(InvalidRequestError):
    """The request names another operator's NIT (``NitOperadorIncorrecto``)."""


class RequestTooLargeError(InvalidRequestError):
    """The request is over the body-size or person limit (``SolicitudDemasiadoGrande``)."""


class NotAuthorizedError(UgppBridgeError):
    """The caller failed WS-Security; deliberately says nothing about why (``NoAutorizado``)."""

    def __init__(self) -> None:
        super().__init__("The caller could not be authenticated.")


@dataclass(frozen=True)
class SchemaIssue:
    """One breach of the schema without the offending value: line, element and, in Spanish,
    what is wrong (for SOAP faults and logs, which must not carry personal data)."""

    line: int
    element: str
    reason: str


class SchemaValidationError(InvalidInputError):
    """An XML document breaks the wire contract in ``xsd/``; ``errors`` are (line, message),
    ``issues`` the same without values."""

    def __init__(
        self,
        schema: str,
        errors: Sequence[tuple[int, str]],
        issues: Sequence[SchemaIssue] = (),
    ) -> None:
        self.schema = schema
        self.errors = tuple(errors)
        self.issues = tuple(issues)
        listing = "; ".join(f"line {line}: {message}" for line, message in self.errors[:5])
        more = f" (and {len(self.errors) - 5} more)" if len(self.errors) > 5 else ""
        super().__init__(f"The document does not validate against {schema}: {listing}{more}.")


class StateError(UgppBridgeError):
    """The bridge's own store refuses an action or cannot do it."""


class IllegalTransitionError(StateError):
    """The lifecycle of SPEC §5 does not allow this change; nothing was written."""

    def __init__(self, entity: str, current: str, target: str) -> None:
        self.entity = entity
        self.current = current
        self.target = target
        super().__init__(
            f"A {entity} in state {current!r} cannot move to {target!r}; nothing was changed. "
            "Check its state with `ugpp-bridge show` and use the action that state allows."
        )


class RequestNotFoundError(StateError):
    def __init__(self, identifier: str) -> None:
        self.identifier = identifier
        super().__init__(
            f"No request has the radicado or idSolicitud {identifier!r}; "
            "list them with `ugpp-bridge requests`."
        )


class AmbiguousIdentifierError(StateError):
    """An operator's ID is the radicado of one request and the idSolicitud of another."""

    def __init__(self, identifier: str, by_radicado: str, by_request_id: str) -> None:
        self.identifier = identifier
        self.by_radicado, self.by_request_id = by_radicado, by_request_id
        super().__init__(
            f"{identifier!r} names two requests: the radicado of {by_radicado} and the "
            f"idSolicitud of {by_request_id}. Write radicado:{identifier} for the first or "
            f"solicitud:{identifier} for the second."
        )


class WorkInProgressError(StateError):
    """Another process (a scheduler, a CLI run, the dashboard) is building or sending it now."""

    def __init__(self, filing_number: str, owner: str, until: str) -> None:
        self.filing_number, self.owner, self.until = filing_number, owner, until
        super().__init__(
            f"{filing_number} is being worked on by {owner} (lease until {until}); wait for it "
            "to finish, or for the lease to expire if that process died, then try again."
        )


class ApprovalRefusedError(StateError):
    """An approval or a return that the four-eyes rule refuses; ``reason``: ``not_officer``,
    ``own_build`` or ``no_reason``. Nothing was written."""

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


class UserExistsError(StateError):
    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(
            f"A dashboard account named {name!r} already exists; pass --update to change its "
            "role and password."
        )


class ConflictingRequestError(StateError):
    """The same idSolicitud arrived again with different content (``SolicitudConflictiva``)."""

    def __init__(self, request_id: str, filing_number: str) -> None:
        self.request_id = request_id
        self.filing_number = filing_number
        super().__init__(
            f"The request {request_id!r} was already received as {filing_number} with different "
            "content; a changed request needs a new idSolicitud."
        )


class StoreUnavailableError(StateError):
    """The state database cannot be reached or written; nothing of the action was kept."""


class DirectoryUnavailableError(UgppBridgeError):
    """The directory (LDAP / Active Directory) could not be reached or refused the service
    account; the message is Spanish (the officer reads it on the sign-in page)."""


class RemoteError(UgppBridgeError):
    """A SOAP service we call failed."""


class RemoteFaultError(RemoteError):
    """The service answered a SOAP fault; ``fault_code`` is the code before the colon."""

    def __init__(self, fault_code: str, message: str, soap_code: str = "") -> None:
        super().__init__(message)
        self.fault_code = fault_code
        self.soap_code = soap_code


class RemoteUnavailableError(RemoteError):
    """The service could not be reached or did not answer in time."""


class CredentialsRefusedError(RemoteError):
    """UGPP refused our credentials (its token service answered 400/401): retrying cannot
    help until an operator fixes them, so the request waits for one (SPEC §9)."""

    def __init__(self, message: str, *, endpoint: str, http_status: int | None = None) -> None:
        super().__init__(message)
        self.endpoint, self.http_status = endpoint, http_status


class SourceError(UgppBridgeError):
    """The entity's source data cannot be used."""


class SourceUnavailableError(SourceError):
    """The source database cannot be reached or read (connection, permissions)."""


@dataclass(frozen=True)
class SourceProblem:
    """One breach of the source contract: where it is and a few keys that show it."""

    relation: str
    column: str | None
    message: str
    example_keys: tuple[str, ...] = ()

    def describe(self) -> str:
        where = self.relation if self.column is None else f"{self.relation}.{self.column}"
        text = f"{where}: {self.message}"
        if self.example_keys:
            text += f" (for example: {', '.join(self.example_keys)})"
        return text


class SourceDataError(SourceError):
    """The source data breaks the contract of SPEC §3; the request can be rebuilt once fixed."""

    def __init__(self, problems: Sequence[SourceProblem]) -> None:
        self.problems = tuple(problems)
        lines = "; ".join(problem.describe() for problem in self.problems)
        super().__init__(
            f"The source data breaks the contract: {lines}. "
            "Fix the data (or the view) and run the build again."
        )


@dataclass(frozen=True)
class ImportErrorLine:
    """One bad value in a CSV file: file name, 1-based line number, column and why."""

    file: str
    line: int
    column: str | None
    message: str

    def describe(self) -> str:
        column = f", column {self.column}" if self.column else ""
        return f"{self.file} line {self.line}{column}: {self.message}"


class SourceImportError(SourceError):
    """A CSV import found bad lines; nothing of that import was written."""

    def __init__(self, errors: Sequence[ImportErrorLine], *, truncated: bool = False) -> None:
        self.errors = tuple(errors)
        self.truncated = truncated
        listing = "\n".join(f"  - {error.describe()}" for error in self.errors)
        more = "\n  - (more errors not shown)" if truncated else ""
        super().__init__(
            "The import was cancelled and nothing was written; fix these lines and import "
            f"again:\n{listing}{more}"
        )
