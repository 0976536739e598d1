"""The ledger against a model a reader can check by eye: a dict of balances. Hypothesis
picks sequences of transfers (plain, pending, retried, refused), posts and voids; after
every step the real ledger, over gRPC, must agree with the model."""

import asyncio
import uuid
from dataclasses import dataclass, field

import grpc
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from ledger.v1 import ledger_pb2 as pb
from ledger.v1.ledger_pb2_grpc import LedgerStub
from tests.ledger.factories import transfer

ACCOUNTS = 4  # few, so that transfers meet on the same accounts and run out of funds


@dataclass
class ModelAccount:
    may_go_negative: bool
    balance: int = 0
    pending_debits: int = 0
    pending_credits: int = 0


@dataclass
class Model:
    accounts: dict[str, ModelAccount] = field(default_factory=dict)
    sent: dict[str, pb.NewTransfer] = field(default_factory=dict)

    def expected(self, new: pb.NewTransfer) -> int:
        """The outcome the ledger owes this transfer, applying it to the model if created."""
        if new.id in self.sent:
            return pb.OUTCOME_EXISTS
        debit, credit = self.accounts[new.debit_account_id], self.accounts[new.credit_account_id]
        if not debit.may_go_negative and debit.balance - debit.pending_debits < new.amount:
            return pb.OUTCOME_REJECTED
        if new.pending:
            debit.pending_debits += new.amount
            credit.pending_credits += new.amount
        else:
            debit.balance -= new.amount
            credit.balance += new.amount
        self.sent[new.id] = new
        return pb.OUTCOME_CREATED


class LedgerMachine(RuleBasedStateMachine):
    """Runs in a thread of its own, with a blocking client: the server it calls is served
    by the test's event loop meanwhile."""

    address = ""
    pending = Bundle("pending")

    def __init__(self) -> None:
        super().__init__()
        self.channel = grpc.insecure_channel(self.address)
        self.ledger = LedgerStub(self.channel)
        self.model = Model()
        self.ids: list[str] = []

    def teardown(self) -> None:
        self.channel.close()

    @initialize(flags=st.lists(st.booleans(), min_size=ACCOUNTS, max_size=ACCOUNTS))
    def open_accounts(self, flags: list[bool]) -> None:
        self.ids = [str(uuid.uuid4()) for _ in flags]
        accounts = [
            pb.NewAccount(id=i, currency="EUR", must_not_go_negative=not may_go_negative)
            for i, may_go_negative in zip(self.ids, flags, strict=True)
        ]
        self.ledger.CreateAccounts(pb.CreateAccountsRequest(accounts=accounts))
        for i, may_go_negative in zip(self.ids, flags, strict=True):
            self.model.accounts[i] = ModelAccount(may_go_negative)

    def pair(self, data: st.DataObject) -> tuple[str, str]:
        debit, credit = data.draw(st.permutations(self.ids))[:2]
        return debit, credit

    def send(self, *transfers: pb.NewTransfer) -> list[pb.TransferResult]:
        response = self.ledger.CreateTransfers(pb.CreateTransfersRequest(transfers=transfers))
        expected = [self.model.expected(t) for t in transfers]
        assert [r.outcome for r in response.results] == expected
        return list(response.results)

    @rule(data=st.data(), amounts=st.lists(st.integers(1, 50), min_size=1, max_size=4))
    def transfers(self, data: st.DataObject, amounts: list[int]) -> None:
        self.send(*(transfer(*self.pair(data), amount) for amount in amounts))

    @rule(data=st.data())
    def retry(self, data: st.DataObject) -> None:
        if self.model.sent:
            self.send(data.draw(st.sampled_from(sorted(self.model.sent.values(), key=str))))

    @rule(target=pending, data=st.data(), amount=st.integers(1, 50))
    def reserve(self, data: st.DataObject, amount: int) -> str:
        new = transfer(*self.pair(data), amount, pending=True, timeout_seconds=600)
        [result] = self.send(new)
        return new.id if result.outcome == pb.OUTCOME_CREATED else ""

    @rule(transfer_id=consumes(pending), part=st.integers(0, 50), void=st.booleans())
    def finish(self, transfer_id: str, part: int, void: bool) -> None:
        if not transfer_id:
            return
        held = self.model.sent[transfer_id]
        debit = self.model.accounts[held.debit_account_id]
        credit = self.model.accounts[held.credit_account_id]
        debit.pending_debits -= held.amount
        credit.pending_credits -= held.amount
        if void:
            self.ledger.VoidPendingTransfer(pb.VoidPendingTransferRequest(id=transfer_id))
            return
        amount = min(part, held.amount)
        self.ledger.PostPendingTransfer(
            pb.PostPendingTransferRequest(id=transfer_id, amount=amount)
        )
        posted = amount or held.amount
        debit.balance -= posted
        credit.balance += posted

    @invariant()
    def ledger_agrees_with_the_model(self) -> None:
        if not self.ids:
            return
        found = self.ledger.LookupAccounts(pb.LookupAccountsRequest(ids=self.ids)).accounts
        real = {a.id: (a.balance, a.pending_debits, a.pending_credits) for a in found}
        model = {
            i: (a.balance, a.pending_debits, a.pending_credits)
            for i, a in self.model.accounts.items()
        }
        assert real == model


async def test_the_ledger_behaves_like_its_model(ledger_address: str) -> None:
    LedgerMachine.address = ledger_address
    machine = settings(max_examples=20, stateful_step_count=12, deadline=None)(LedgerMachine)
    await asyncio.to_thread(run_state_machine_as_test, machine)
