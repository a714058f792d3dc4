"""Commands on issued documents as records: the hashes of their PDFs and their past versions."""

from __future__ import annotations

from uuid import UUID

from eventsourcing.domain import Aggregate

from ledger.commands.base import Outcome
from ledger.commands.receivables import ReceivableCommands
from ledger.context import CommandContext
from ledger.domain.credit_note import CreditNote
from ledger.domain.invoice import Invoice
from ledger.errors import NotFound

Document = Invoice | CreditNote


class DocumentCommands(ReceivableCommands):
    def credit_note_at(
        self, ctx: CommandContext, credit_note_id: UUID, version: int | None
    ) -> CreditNote:
        """The credit note now, or as it stood at a version."""
        current = self.credit_note(ctx, credit_note_id)
        if version is None or version == current.version:
            return current
        if not 1 <= version <= current.version:
            raise NotFound(f"credit note {credit_note_id} has no version {version}")
        past: Aggregate = self.repository.get(credit_note_id, version=version)
        assert isinstance(past, CreditNote)
        return past

    def record_rendering(
        self,
        ctx: CommandContext,
        kind: type[Document],
        document_id: UUID,
        sha256: str,
        version: int,
        locale: str,
    ) -> Document:
        """Record the SHA-256 of a document's first PDF. `ledger` does not render: the
        caller renders `version` and passes the digest. A document rendered before keeps
        its first record, and the document is returned unchanged."""

        def attempt() -> Outcome[Document]:
            document = self._load(ctx, kind, document_id)
            document.record_rendering(sha256, version, locale)
            return Outcome(document, [document])

        return self._execute(ctx, attempt)
