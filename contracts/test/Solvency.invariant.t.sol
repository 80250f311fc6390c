// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Vm} from "forge-std/Vm.sol";
import {Fixture} from "./utils/Fixture.sol";
import {MerkleHelper} from "./utils/MerkleHelper.sol";
import {OpenToken} from "../src/OpenToken.sol";
import {InferenceRouter} from "../src/InferenceRouter.sol";
import {AttributionSettlement} from "../src/AttributionSettlement.sol";

/// Log recording, newer than the npm forge-std 1.1.2 `Vm` interface.
interface VmLogs {
    struct Log {
        bytes32[] topics;
        bytes data;
        address emitter;
    }

    function recordLogs() external;
    function getRecordedLogs() external returns (Log[] memory);
}

/// The only fuzz target. Every action picks its actor from a fixed set and bounds its inputs to a valid
/// range, so that most calls succeed; each success is counted. Alongside the contracts, the handler keeps
/// its own model of what they owe (escrow, owner earnings, pools, carry, posted cumulative leaves, claims),
/// computed from the money-flow rules and never read back from the contracts' accounting, and records in
/// `mismatches` every event or balance change that disagrees with that model.
contract SolvencyHandler {
    Vm internal constant vm = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));
    VmLogs internal constant vml = VmLogs(address(uint160(uint256(keccak256("hevm cheat code")))));

    uint256 public constant N_PAYERS = 4;
    uint256 public constant N_OWNERS = 3;
    uint256 public constant N_CLAIMANTS = 5;
    uint256 internal constant BPS = 10_000;
    uint256 internal constant MAX_ITEMS = 8;
    uint256 internal constant MAX_TOKENS = 100_000;

    struct ModelInfo {
        uint64 id;
        address owner;
        uint256 priceIn;
        uint256 priceOut;
        bool billable;
    }

    /// The handler's own record of a posted batch.
    struct BatchModel {
        uint256[5] cumulative;
        uint256 cumulativeTotal;
        uint256 carryIn;
        uint256 claimableAt; // posting time + the dispute window in force then
        uint256 prevEpoch;
        bool revoked;
    }

    /// What `settle` predicts for one item.
    struct Prediction {
        bool settled;
        uint8 reason;
        address modelOwner;
        uint256 fee;
        uint256 owner;
        uint256 pool;
        uint256 treasury;
    }

    struct Totals {
        uint256 settled;
        uint256 fee;
        uint256 owner;
        uint256 pool;
        uint256 treasury;
    }

    OpenToken public immutable token;
    InferenceRouter public immutable router;
    AttributionSettlement public immutable settlement;
    address internal immutable operator;
    address internal immutable attributor;
    address internal immutable guardian;
    address internal immutable gov;
    address internal immutable treasury;

    // Configuration, read once: the rules the model applies.
    uint256 internal immutable ownerBps;
    uint256 internal immutable treasuryBps;
    uint256 internal immutable withdrawalDelay;
    uint256 internal immutable anchorTime;
    uint256 internal immutable epochLength;
    uint256 internal immutable signerSetVersion;

    uint256[] internal signerKeys; // ordered by signer address
    address[] public payers;
    address[] public owners;
    address[] public claimants;
    ModelInfo[] internal modelList;

    // ------------------------------------------------------------ ghost: router
    mapping(address => uint256) public ghostEscrow;
    mapping(address => uint256) public ghostPending;
    mapping(address => uint256) public ghostAvailableAt;
    mapping(address => uint256) public ghostAllowance; // towards `operator`
    uint256 public ghostEscrowSum;
    mapping(address => uint256) public ghostOwnerEarnings;
    uint256 public ghostOwnerSum;
    uint256 public ghostBatchNumber;

    // Sums of the amounts the router's events reported, and of what the rules predict.
    uint256 public evFee;
    uint256 public evOwner;
    uint256 public evPool;
    uint256 public evTreasury;
    uint256 public predFee;
    uint256 public predOwner;
    uint256 public predPool;
    uint256 public predTreasury;
    uint256 public itemsSettled;
    uint256 public itemsRejected;

    // -------------------------------------------------------- ghost: settlement
    mapping(uint256 => uint256) public ghostPool;
    uint256 public ghostFunded;
    uint256 public ghostClaimedTotal;
    mapping(address => uint256) public ghostClaimed;
    uint256 public ghostCarry;
    uint256 public ghostLastPosted;
    mapping(uint256 => BatchModel) internal batches;
    mapping(uint256 => uint256) public ghostNextNonce;
    uint256 public ghostDisputeWindow;

    /// Every disagreement between an event / balance change and the model.
    uint256 public mismatches;
    string public firstMismatch;
    /// Every revert of a call whose inputs the handler bounded to be valid: a refused valid action
    /// (a stuck withdrawal, claim or settlement) is a failure too, not a skipped call.
    uint256 public unexpectedReverts;
    string public firstRevertAction;
    bytes public firstRevertData;

    // ------------------------------------------------------- successful calls
    uint256 public nDeposit;
    uint256 public nApprove;
    uint256 public nRequest;
    uint256 public nWithdraw;
    uint256 public nSettle;
    uint256 public nOwnerWithdraw;
    uint256 public nWarp;
    uint256 public nPost;
    uint256 public nClaim;
    uint256 public nRevoke;
    uint256 public nRefused; // invalid attempts refused as expected
    uint256 public nWindow;

    constructor(
        OpenToken token_,
        InferenceRouter router_,
        AttributionSettlement settlement_,
        address[5] memory roles, // operator, attributor, guardian, gov, treasury
        uint256[] memory signerKeys_,
        address[] memory payers_,
        address[] memory claimants_,
        ModelInfo[] memory models_
    ) {
        token = token_;
        router = router_;
        settlement = settlement_;
        (operator, attributor, guardian, gov, treasury) = (roles[0], roles[1], roles[2], roles[3], roles[4]);
        ownerBps = router_.ownerBps();
        treasuryBps = router_.treasuryBps();
        withdrawalDelay = router_.withdrawalDelay();
        anchorTime = settlement_.anchorTime();
        epochLength = settlement_.epochLength();
        ghostDisputeWindow = settlement_.disputeWindow();
        signerSetVersion = settlement_.signerSetVersion();
        signerKeys = signerKeys_;
        payers = payers_;
        claimants = claimants_;
        for (uint256 i = 0; i < models_.length; i++) {
            modelList.push(models_[i]);
            bool known;
            for (uint256 j = 0; j < owners.length; j++) {
                if (owners[j] == models_[i].owner) known = true;
            }
            if (!known && models_[i].owner != address(0)) owners.push(models_[i].owner);
        }
    }

    // ================================================================ actions

    /// A payer (or another payer on its behalf) deposits part of its wallet.
    function deposit(uint256 actorSeed, uint256 amount) public {
        address payer = payers[actorSeed % N_PAYERS];
        address from = (actorSeed >> 8) % 4 == 0 ? payers[(actorSeed % N_PAYERS + 1) % N_PAYERS] : payer;
        uint256 wallet = token.balanceOf(from);
        if (wallet == 0) return;
        amount = _bound(amount, 1, _min(wallet, 100 ether));
        uint256 routerBefore = token.balanceOf(address(router));
        vm.startPrank(from);
        token.approve(address(router), amount);
        bool ok = true;
        bytes memory err;
        if (from == payer) {
            try router.deposit(amount) {} catch (bytes memory e) { (ok, err) = (false, e); }
        } else {
            try router.depositFor(payer, amount) {} catch (bytes memory e) { (ok, err) = (false, e); }
        }
        vm.stopPrank();
        if (!ok) return _unexpected("deposit", err);
        _check(token.balanceOf(address(router)) == routerBefore + amount, "deposit: router balance");
        _check(token.balanceOf(from) == wallet - amount, "deposit: wallet balance");
        ghostEscrow[payer] += amount;
        ghostEscrowSum += amount;
        nDeposit++;
    }

    /// A payer sets the operator's allowance: unlimited, zero, or a random amount.
    function approveOperator(uint256 actorSeed, uint256 allowanceSeed) public {
        address payer = payers[actorSeed % N_PAYERS];
        uint256 mode = allowanceSeed % 4;
        uint256 allowance =
            mode == 0 ? type(uint256).max : mode == 1 ? 0 : _bound(allowanceSeed >> 8, 1, 20 ether);
        vm.prank(payer);
        try router.approveOperator(operator, allowance) {} catch (bytes memory e) {
            return _unexpected("approveOperator", e);
        }
        ghostAllowance[payer] = allowance;
        nApprove++;
    }

    /// A payer asks to withdraw part of its escrow.
    function requestWithdrawal(uint256 actorSeed, uint256 amount) public {
        address payer = payers[actorSeed % N_PAYERS];
        uint256 bal = ghostEscrow[payer];
        if (bal == 0) return;
        amount = _bound(amount, 1, bal);
        vm.prank(payer);
        try router.requestWithdrawal(amount) {} catch (bytes memory e) {
            return _unexpected("requestWithdrawal", e);
        }
        ghostPending[payer] = amount;
        ghostAvailableAt[payer] = block.timestamp + withdrawalDelay;
        nRequest++;
    }

    /// A payer with a pending request (the first from a random one on) waits out the delay if needed and
    /// withdraws.
    function withdraw(uint256 actorSeed) public {
        address payer;
        uint256 pending;
        for (uint256 k = 0; k < N_PAYERS && pending == 0; k++) {
            payer = payers[(actorSeed % N_PAYERS + k) % N_PAYERS];
            pending = ghostPending[payer];
        }
        if (pending == 0) return;
        if (block.timestamp < ghostAvailableAt[payer]) vm.warp(ghostAvailableAt[payer]);
        uint256 amount = _min(pending, ghostEscrow[payer]);
        uint256 walletBefore = token.balanceOf(payer);
        vm.prank(payer);
        try router.withdraw() {} catch (bytes memory e) {
            return _unexpected("withdraw", e);
        }
        _check(token.balanceOf(payer) == walletBefore + amount, "withdraw: wallet balance");
        ghostEscrow[payer] -= amount;
        ghostEscrowSum -= amount;
        ghostPending[payer] = 0;
        nWithdraw++;
    }

    /// The operator settles the next batch of 1..8 random inferences; some are rejected (inactive or
    /// unknown model, escrow or allowance too small), the rest are billed.
    function settle(uint256 seed, uint256 count) public {
        uint256 n = _bound(count, 1, MAX_ITEMS);
        InferenceRouter.Item[] memory items = new InferenceRouter.Item[](n);
        Prediction[] memory pred = new Prediction[](n);
        uint256 batchNumber = ghostBatchNumber + 1;
        uint256 epoch = _epochAt(block.timestamp);
        Totals memory t;
        for (uint256 i = 0; i < n; i++) {
            uint256 r = uint256(keccak256(abi.encode(seed, i)));
            ModelInfo memory m = modelList[(r >> 8) % modelList.length];
            items[i] = InferenceRouter.Item({
                requestId: keccak256(abi.encode("req", batchNumber, i)),
                payer: payers[r % N_PAYERS],
                modelId: m.id,
                tokensIn: uint32((r >> 16) % (MAX_TOKENS + 1)),
                tokensOut: uint32((r >> 48) % (MAX_TOKENS + 1))
            });
            pred[i] = _predict(items[i], m);
            if (pred[i].settled) {
                t.settled++;
                t.fee += pred[i].fee;
                t.owner += pred[i].owner;
                t.pool += pred[i].pool;
                t.treasury += pred[i].treasury;
            }
        }

        uint256[3] memory before =
            [token.balanceOf(address(router)), token.balanceOf(treasury), token.balanceOf(address(settlement))];
        vml.recordLogs();
        vm.prank(operator);
        try router.settle(batchNumber, items) {} catch (bytes memory e) {
            return _unexpected("settle", e);
        }
        _checkSettleLogs(vml.getRecordedLogs(), items, pred, batchNumber, epoch, t);

        _check(token.balanceOf(address(router)) + t.pool + t.treasury == before[0], "settle: router balance");
        _check(token.balanceOf(treasury) == before[1] + t.treasury, "settle: treasury balance");
        _check(token.balanceOf(address(settlement)) == before[2] + t.pool, "settle: settlement balance");

        ghostBatchNumber = batchNumber;
        ghostEscrowSum -= t.fee;
        ghostOwnerSum += t.owner;
        ghostPool[epoch] += t.pool;
        ghostFunded += t.pool;
        predFee += t.fee;
        predOwner += t.owner;
        predPool += t.pool;
        predTreasury += t.treasury;
        itemsSettled += t.settled;
        itemsRejected += n - t.settled;
        nSettle++;
    }

    /// A model owner with earnings (the first from a random one on) withdraws them.
    function withdrawOwnerEarnings(uint256 ownerSeed) public {
        address owner;
        uint256 amount;
        for (uint256 k = 0; k < owners.length && amount == 0; k++) {
            owner = owners[(ownerSeed % owners.length + k) % owners.length];
            amount = ghostOwnerEarnings[owner];
        }
        if (amount == 0) return;
        uint256 walletBefore = token.balanceOf(owner);
        vm.prank(owner);
        try router.withdrawOwnerEarnings() {} catch (bytes memory e) {
            return _unexpected("withdrawOwnerEarnings", e);
        }
        _check(token.balanceOf(owner) == walletBefore + amount, "withdrawOwnerEarnings: wallet balance");
        ghostOwnerEarnings[owner] = 0;
        ghostOwnerSum -= amount;
        nOwnerWithdraw++;
    }

    /// Time passes: a minute to two days.
    function warp(uint256 secs) public {
        vm.warp(block.timestamp + _bound(secs, 1 minutes, 2 days));
        nWarp++;
    }

    /// The attributor posts a batch, signed by two or three of the signers, for a random ended epoch after
    /// the newest batch (waiting out the previous batch's dispute window or the current epoch if needed).
    /// Its leaves add random increments to the previous cumulative leaves, within what is available.
    function postBatch(uint256 seed) public {
        uint256 last = ghostLastPosted;
        (uint256 epoch, uint256 available) = _nextPostable(seed);
        BatchModel memory nb;
        nb.carryIn = ghostCarry;
        nb.prevEpoch = last;
        nb.claimableAt = block.timestamp + ghostDisputeWindow;
        uint256 total = _allocate(seed, available, last, nb);
        nb.cumulativeTotal = (last == 0 ? 0 : batches[last].cumulativeTotal) + total;

        AttributionSettlement.PayoutBatch memory b = AttributionSettlement.PayoutBatch({
            epoch: epoch,
            nonce: ghostNextNonce[epoch],
            root: MerkleHelper.root(_leaves(nb.cumulative)),
            total: total,
            scoreFileHash: keccak256(abi.encode("scores", seed)),
            signerSetVersion: signerSetVersion
        });
        bytes[] memory sigs = _signBatch(b, 2 + (seed >> 128) % 2);
        vm.prank(attributor);
        try settlement.postBatch(b, sigs) {} catch (bytes memory e) {
            return _unexpected("postBatch", e);
        }

        batches[epoch] = nb;
        ghostNextNonce[epoch] += 1;
        ghostLastPosted = epoch;
        ghostCarry = available - total;
        nPost++;
    }

    /// A claimant (or anyone, for it) claims from the newest claimable batch with a valid proof. If no one
    /// has anything to claim there but a newer batch is in its dispute window, waits the window out.
    function claim(uint256 seed) public {
        uint256 head = ghostLastPosted;
        if (head == 0) return;
        bool headClaimable = block.timestamp >= batches[head].claimableAt;
        uint256 ce = headClaimable ? head : batches[head].prevEpoch;
        (bool found, uint256 idx) = _findClaimant(ce, seed);
        if (!found && !headClaimable) {
            vm.warp(batches[head].claimableAt);
            ce = head;
            (found, idx) = _findClaimant(ce, seed);
        }
        if (!found) return;

        address account = claimants[idx];
        uint256 cumulative = batches[ce].cumulative[idx];
        uint256 amount = cumulative - ghostClaimed[account];
        bytes32[] memory proof = MerkleHelper.proof(_leaves(batches[ce].cumulative), idx);
        uint256 walletBefore = token.balanceOf(account);
        if ((seed >> 64) % 2 == 0) {
            vm.prank(account);
            try settlement.claim(cumulative, proof) {} catch (bytes memory e) {
                return _unexpected("claim", e);
            }
        } else {
            vm.prank(payers[(seed >> 72) % N_PAYERS]);
            try settlement.claimFor(account, cumulative, proof) {} catch (bytes memory e) {
                return _unexpected("claimFor", e);
            }
        }
        _check(token.balanceOf(account) == walletBefore + amount, "claim: wallet balance");
        ghostClaimed[account] = cumulative;
        ghostClaimedTotal += amount;
        nClaim++;
    }

    /// The guardian or governance revokes the newest batch while it is in its dispute window.
    function revoke(uint256 seed) public {
        uint256 head = ghostLastPosted;
        if (head == 0) return;
        BatchModel storage b = batches[head];
        if (block.timestamp >= b.claimableAt) return;
        vm.prank(seed % 2 == 0 ? guardian : gov);
        try settlement.revokeBatch(head, "handler revoke") {} catch (bytes memory e) {
            return _unexpected("revokeBatch", e);
        }
        b.revoked = true;
        ghostCarry = b.carryIn;
        ghostLastPosted = b.prevEpoch;
        nRevoke++;
    }

    /// Governance sets a new dispute window (0 to 12 hours); it applies to batches posted from then on.
    function setDisputeWindow(uint256 secs) public {
        uint64 window = uint64(_bound(secs, 0, 12 hours));
        vm.prank(gov);
        try settlement.setDisputeWindow(window) {} catch (bytes memory e) {
            return _unexpected("setDisputeWindow", e);
        }
        ghostDisputeWindow = window;
        nWindow++;
    }

    /// Tries something the contracts must refuse, and records a mismatch unless it is refused with exactly
    /// the expected error: claiming a fully claimed leaf again, claiming more than a leaf says, posting more
    /// than is available, requesting more than the escrow, replaying a settled batch number.
    function tryInvalid(uint256 seed) public {
        uint256 kind = (seed & 0xff) % 5;
        bytes memory expected;
        bool ok;
        bytes memory err;
        if (kind <= 1) {
            // A claimant of the claimable batch, asking for what it already has or for one wei more.
            uint256 ce = this.modelClaimableEpoch();
            if (ce == 0) return;
            uint256 idx = (seed >> 8) % N_CLAIMANTS;
            address account = claimants[idx];
            uint256 cumulative = batches[ce].cumulative[idx];
            uint256 already = ghostClaimed[account];
            bytes32[] memory proof = MerkleHelper.proof(_leaves(batches[ce].cumulative), idx);
            if (kind == 0) {
                if (already != cumulative || cumulative == 0) return;
                expected = abi.encodeWithSelector(
                    AttributionSettlement.NothingToClaim.selector, account, cumulative, already
                );
            } else {
                cumulative += 1;
                expected = abi.encodeWithSelector(AttributionSettlement.InvalidProof.selector, account, cumulative);
            }
            vm.prank(account);
            try settlement.claim(cumulative, proof) {ok = true;} catch (bytes memory e) {err = e;}
        } else if (kind == 2) {
            (uint256 epoch, uint256 available) = _nextPostable(seed >> 8);
            AttributionSettlement.PayoutBatch memory b = AttributionSettlement.PayoutBatch({
                epoch: epoch,
                nonce: ghostNextNonce[epoch],
                root: keccak256(abi.encode("greedy", seed)),
                total: available + 1,
                scoreFileHash: keccak256(abi.encode("greedy scores", seed)),
                signerSetVersion: signerSetVersion
            });
            bytes[] memory sigs = _signBatch(b, 2);
            expected =
                abi.encodeWithSelector(AttributionSettlement.TotalExceedsAvailable.selector, available + 1, available);
            vm.prank(attributor);
            try settlement.postBatch(b, sigs) {ok = true;} catch (bytes memory e) {err = e;}
        } else if (kind == 3) {
            address payer = payers[(seed >> 8) % N_PAYERS];
            uint256 bal = ghostEscrow[payer];
            expected = abi.encodeWithSelector(InferenceRouter.InsufficientBalance.selector, payer, bal, bal + 1);
            vm.prank(payer);
            try router.requestWithdrawal(bal + 1) {ok = true;} catch (bytes memory e) {err = e;}
        } else {
            if (ghostBatchNumber == 0) return;
            InferenceRouter.Item[] memory items = new InferenceRouter.Item[](1);
            items[0] = InferenceRouter.Item({
                requestId: keccak256(abi.encode("replay", seed)), payer: payers[0], modelId: modelList[0].id, tokensIn: 1000, tokensOut: 1000
            });
            expected = abi.encodeWithSelector(
                InferenceRouter.BatchOutOfOrder.selector, operator, ghostBatchNumber + 1, ghostBatchNumber
            );
            vm.prank(operator);
            try router.settle(ghostBatchNumber, items) {ok = true;} catch (bytes memory e) {err = e;}
        }
        _check(!ok && keccak256(err) == keccak256(expected), "tryInvalid: not refused with the expected error");
        nRefused++;
    }

    // ================================================================= views

    function successes() external view returns (uint256) {
        return nDeposit + nApprove + nRequest + nWithdraw + nSettle + nOwnerWithdraw + nWarp + nPost + nClaim
            + nRevoke + nRefused + nWindow;
    }

    function payerCount() external view returns (uint256) {
        return payers.length;
    }

    function ownerCount() external view returns (uint256) {
        return owners.length;
    }

    function modelClaimableAt(uint256 epoch) external view returns (uint256) {
        return batches[epoch].claimableAt;
    }

    function modelCumulativeTotal(uint256 epoch) external view returns (uint256) {
        return batches[epoch].cumulativeTotal;
    }

    /// The model's view of the newest claimable batch.
    function modelClaimableEpoch() external view returns (uint256) {
        uint256 head = ghostLastPosted;
        if (head == 0) return 0;
        return block.timestamp >= batches[head].claimableAt ? head : batches[head].prevEpoch;
    }

    // ============================================================== internals

    /// Waits out the newest batch's dispute window and, if no epoch after it has ended, the current epoch;
    /// then picks a random ended epoch after the newest batch and returns what a batch for it may pay.
    function _nextPostable(uint256 seed) internal returns (uint256 epoch, uint256 available) {
        uint256 last = ghostLastPosted;
        if (last != 0) {
            uint256 prevClaimableAt = batches[last].claimableAt;
            if (block.timestamp < prevClaimableAt) vm.warp(prevClaimableAt);
        }
        uint256 cur = _epochAt(block.timestamp);
        if (cur <= last + 1) {
            vm.warp(_epochEnd(cur));
            cur = cur + 1;
        }
        epoch = last + 1 + seed % (cur - 1 - last);
        available = ghostCarry;
        for (uint256 e = last + 1; e <= epoch; e++) {
            available += ghostPool[e];
        }
    }

    function _predict(InferenceRouter.Item memory it, ModelInfo memory m) internal returns (Prediction memory p) {
        p.fee = (uint256(it.tokensIn) * m.priceIn + uint256(it.tokensOut) * m.priceOut) / 1000;
        if (!m.billable) {
            p.reason = uint8(InferenceRouter.RejectReason.ModelInactive);
            return p;
        }
        if (p.fee > ghostEscrow[it.payer]) {
            p.reason = uint8(InferenceRouter.RejectReason.InsufficientEscrow);
            return p;
        }
        uint256 allowance = ghostAllowance[it.payer];
        if (p.fee > allowance) {
            p.reason = uint8(InferenceRouter.RejectReason.InsufficientAllowance);
            return p;
        }
        p.settled = true;
        p.modelOwner = m.owner;
        p.owner = p.fee * ownerBps / BPS;
        p.treasury = p.fee * treasuryBps / BPS;
        p.pool = p.fee - p.owner - p.treasury;
        ghostEscrow[it.payer] -= p.fee;
        if (allowance != type(uint256).max) ghostAllowance[it.payer] = allowance - p.fee;
        ghostOwnerEarnings[m.owner] += p.owner;
    }

    /// Compares the router's per-item events (in item order) and its batch event with the predictions,
    /// and adds the amounts the events report to the ev* sums.
    function _checkSettleLogs(
        VmLogs.Log[] memory logs,
        InferenceRouter.Item[] memory items,
        Prediction[] memory pred,
        uint256 batchNumber,
        uint256 epoch,
        Totals memory t
    ) internal {
        uint256 j;
        bool sawBatch;
        for (uint256 k = 0; k < logs.length; k++) {
            VmLogs.Log memory l = logs[k];
            if (l.emitter != address(router)) continue;
            bytes32 topic0 = l.topics[0];
            if (topic0 == InferenceRouter.InferenceSettled.selector) {
                if (j >= items.length || !pred[j].settled) return _mismatch("settle: unexpected InferenceSettled");
                _checkSettledEvent(l, items[j], pred[j], batchNumber, epoch);
                j++;
            } else if (topic0 == InferenceRouter.InferenceRejected.selector) {
                if (j >= items.length || pred[j].settled) return _mismatch("settle: unexpected InferenceRejected");
                (address op, uint256 bn, uint256 fee, uint8 reason) =
                    abi.decode(l.data, (address, uint256, uint256, uint8));
                _check(
                    l.topics[1] == items[j].requestId && op == operator && bn == batchNumber && fee == pred[j].fee
                        && reason == pred[j].reason,
                    "settle: InferenceRejected fields"
                );
                j++;
            } else if (topic0 == InferenceRouter.BatchSettled.selector) {
                sawBatch = true;
                uint256[7] memory v = abi.decode(l.data, (uint256[7]));
                _check(
                    v[0] == epoch && v[1] == t.settled && v[2] == items.length - t.settled && v[3] == t.fee
                        && v[4] == t.owner && v[5] == t.pool && v[6] == t.treasury,
                    "settle: BatchSettled totals"
                );
            }
        }
        _check(j == items.length && sawBatch, "settle: one event per item and a BatchSettled");
    }

    function _checkSettledEvent(
        VmLogs.Log memory l,
        InferenceRouter.Item memory it,
        Prediction memory p,
        uint256 batchNumber,
        uint256 epoch
    ) internal {
        uint256[9] memory v = abi.decode(l.data, (uint256[9]));
        // epoch, batchNumber, modelOwner, tokensIn, tokensOut, fee, owner, pool, treasury
        _check(l.topics[1] == it.requestId && uint256(l.topics[3]) == uint160(it.payer), "InferenceSettled: topics");
        _check(v[0] == epoch && v[1] == batchNumber && v[2] == uint160(p.modelOwner), "InferenceSettled: ids");
        _check(v[3] == it.tokensIn && v[4] == it.tokensOut, "InferenceSettled: tokens");
        _check(v[5] == v[6] + v[7] + v[8], "InferenceSettled: fee != owner + pool + treasury");
        _check(v[5] == p.fee && v[6] == p.owner && v[7] == p.pool && v[8] == p.treasury, "InferenceSettled: split");
        evFee += v[5];
        evOwner += v[6];
        evPool += v[7];
        evTreasury += v[8];
    }

    /// Fills `nb.cumulative` with the previous cumulative leaves plus random increments summing to a
    /// random part (sometimes all, sometimes none) of `available`; returns that sum.
    function _allocate(uint256 seed, uint256 available, uint256 last, BatchModel memory nb)
        internal
        view
        returns (uint256 total)
    {
        uint256 mode = (seed >> 136) % 8;
        uint256 budget = mode == 0 ? 0 : mode < 3 ? available : _bound(seed >> 144, 0, available);
        uint256 remaining = budget;
        for (uint256 i = 0; i < N_CLAIMANTS; i++) {
            uint256 r = uint256(keccak256(abi.encode(seed, "inc", i)));
            uint256 inc = i == N_CLAIMANTS - 1 ? remaining : (r % 3 == 0 ? 0 : r % (remaining + 1));
            remaining -= inc;
            nb.cumulative[i] = (last == 0 ? 0 : batches[last].cumulative[i]) + inc;
        }
        total = budget;
    }

    function _findClaimant(uint256 epoch, uint256 seed) internal view returns (bool, uint256) {
        if (epoch == 0) return (false, 0);
        for (uint256 k = 0; k < N_CLAIMANTS; k++) {
            uint256 i = (seed % N_CLAIMANTS + k) % N_CLAIMANTS;
            if (batches[epoch].cumulative[i] > ghostClaimed[claimants[i]]) return (true, i);
        }
        return (false, 0);
    }

    function _leaves(uint256[5] memory cumulative) internal view returns (bytes32[] memory leaves) {
        leaves = new bytes32[](N_CLAIMANTS);
        for (uint256 i = 0; i < N_CLAIMANTS; i++) {
            leaves[i] = MerkleHelper.leaf(claimants[i], cumulative[i]);
        }
    }

    function _signBatch(AttributionSettlement.PayoutBatch memory b, uint256 count)
        internal
        returns (bytes[] memory sigs)
    {
        bytes32 digest = settlement.batchDigest(b);
        sigs = new bytes[](count);
        for (uint256 i = 0; i < count; i++) {
            (uint8 v, bytes32 r, bytes32 s) = vm.sign(signerKeys[i], digest);
            sigs[i] = abi.encodePacked(r, s, v);
        }
    }

    function _epochAt(uint256 t) internal view returns (uint256) {
        return 1 + (t - anchorTime) / epochLength;
    }

    function _epochEnd(uint256 epoch) internal view returns (uint256) {
        return anchorTime + epoch * epochLength;
    }

    function _unexpected(string memory action, bytes memory err) internal {
        if (unexpectedReverts == 0) {
            firstRevertAction = action;
            firstRevertData = err;
        }
        unexpectedReverts++;
    }

    function _check(bool ok, string memory what) internal {
        if (!ok) _mismatch(what);
    }

    function _mismatch(string memory what) internal {
        if (mismatches == 0) firstMismatch = what;
        mismatches++;
    }

    function _bound(uint256 x, uint256 lo, uint256 hi) internal pure returns (uint256) {
        if (hi <= lo) return lo;
        uint256 size = hi - lo;
        if (size == type(uint256).max) return x;
        return lo + x % (size + 1);
    }

    function _min(uint256 a, uint256 b) internal pure returns (uint256) {
        return a < b ? a : b;
    }
}

/// InferenceRouter and AttributionSettlement always hold at least what they owe, under random sequences of
/// deposits, allowances, withdrawals, settlements (with rejections), owner withdrawals, time, signed
/// payout batches, claims and revocations.
contract SolvencyInvariantTest is Fixture {
    struct FuzzSelector {
        address addr;
        bytes4[] selectors;
    }

    SolvencyHandler internal handler;
    uint256 internal treasuryStart;
    uint256 internal setUpSuccesses; // the handler calls made by setUp itself

    address[] internal payerAddrs;
    address[] internal claimantAddrs;

    function setUp() public override {
        super.setUp();
        address[3] memory ownerAddrs = [address(0x0A1), address(0x0A2), address(0x0A3)];
        uint256 datanetId = _datanetWithVersion(ownerAddrs[0]);

        SolvencyHandler.ModelInfo[] memory ms = new SolvencyHandler.ModelInfo[](5);
        ms[0] = _registered(ownerAddrs[0], datanetId, 1e15, 3e15); // up to 0.4 OPEN an inference
        ms[1] = _registered(ownerAddrs[1], datanetId, 7, 13); // a few wei: floors everywhere
        ms[2] = _registered(ownerAddrs[2], datanetId, 2.5e16, 1e17 - 1); // up to ~12.5 OPEN
        ms[3] = _registered(ownerAddrs[1], datanetId, 5e15, 5e15);
        // ms[3]'s owner stops billing: its inferences are rejected as ModelInactive.
        vm.prank(ownerAddrs[1]);
        models.setActive(ms[3].id, false);
        ms[3].billable = false;
        // An id that was never registered.
        ms[4] = SolvencyHandler.ModelInfo({id: 999, owner: address(0), priceIn: 0, priceOut: 0, billable: false});

        for (uint256 i = 0; i < 4; i++) {
            address p = address(uint160(0xBA7E0 + i));
            payerAddrs.push(p);
            _fund(p, 1_000 ether);
        }
        for (uint256 i = 0; i < 5; i++) {
            claimantAddrs.push(address(uint160(0xC1A10 + i)));
        }

        handler = new SolvencyHandler(
            token,
            router,
            settlement,
            [operator, attributor, guardian, gov, treasury],
            signerKeys,
            payerAddrs,
            claimantAddrs,
            ms
        );
        // Three payers start with escrow; two of them with an unlimited allowance, one with a small one.
        handler.deposit(0, 50 ether);
        handler.deposit(1, 50 ether);
        handler.deposit(2, 50 ether);
        handler.approveOperator(0, 0); // unlimited
        handler.approveOperator(1, 0);
        handler.approveOperator(2, (5 ether << 8) + 2);
        treasuryStart = token.balanceOf(treasury);
        setUpSuccesses = handler.successes();
    }

    function _registered(address owner_, uint256 datanetId, uint96 priceIn, uint96 priceOut)
        internal
        returns (SolvencyHandler.ModelInfo memory)
    {
        uint256 id = _model(owner_, datanetId, priceIn, priceOut);
        return SolvencyHandler.ModelInfo({id: uint64(id), owner: owner_, priceIn: priceIn, priceOut: priceOut, billable: true});
    }

    function targetContracts() public view returns (address[] memory targets) {
        targets = new address[](1);
        targets[0] = address(handler);
    }

    function targetSelectors() public view returns (FuzzSelector[] memory out) {
        bytes4[] memory s = new bytes4[](12);
        s[0] = SolvencyHandler.deposit.selector;
        s[1] = SolvencyHandler.approveOperator.selector;
        s[2] = SolvencyHandler.requestWithdrawal.selector;
        s[3] = SolvencyHandler.withdraw.selector;
        s[4] = SolvencyHandler.settle.selector;
        s[5] = SolvencyHandler.withdrawOwnerEarnings.selector;
        s[6] = SolvencyHandler.warp.selector;
        s[7] = SolvencyHandler.postBatch.selector;
        s[8] = SolvencyHandler.claim.selector;
        s[9] = SolvencyHandler.revoke.selector;
        s[10] = SolvencyHandler.tryInvalid.selector;
        s[11] = SolvencyHandler.setDisputeWindow.selector;
        out = new FuzzSelector[](1);
        out[0] = FuzzSelector({addr: address(handler), selectors: s});
    }

    // ============================================================== invariants

    /// The router's balance covers every escrow and every model owner's unpaid earnings: as the handler's
    /// model counts them, and as the router's own accounting does. Nothing else moves tokens into the
    /// router, so it holds exactly that.
    function invariant_routerHoldsEscrowAndOwnerEarnings() public view {
        uint256 bal = token.balanceOf(address(router));
        uint256 owed = handler.ghostEscrowSum() + handler.ghostOwnerSum();
        assertGe(bal, owed, "router balance < ghost liabilities");

        uint256 escrowSum;
        for (uint256 i = 0; i < payerAddrs.length; i++) {
            (uint256 b, uint256 pending) = router.escrowOf(payerAddrs[i]);
            assertEq(b, handler.ghostEscrow(payerAddrs[i]), "escrow of a payer");
            assertEq(pending, handler.ghostPending(payerAddrs[i]), "pending withdrawal of a payer");
            assertEq(router.operatorAllowance(payerAddrs[i], operator), handler.ghostAllowance(payerAddrs[i]), "allowance");
            escrowSum += b;
        }
        uint256 earningsSum;
        for (uint256 i = 0; i < handler.ownerCount(); i++) {
            address o = handler.owners(i);
            assertEq(router.ownerEarnings(o), handler.ghostOwnerEarnings(o), "earnings of an owner");
            earningsSum += router.ownerEarnings(o);
        }
        assertGe(bal, escrowSum + earningsSum, "router balance < its own liabilities");
        assertEq(escrowSum, handler.ghostEscrowSum(), "escrow sum");
        assertEq(earningsSum, handler.ghostOwnerSum(), "owner earnings sum");
        assertEq(bal, owed, "router balance != liabilities");
    }

    /// The settlement contract's balance covers totalFunded - totalClaimed, both as it reports them and as
    /// the handler counted pool fundings and claims.
    function invariant_settlementHoldsOutstanding() public view {
        uint256 bal = token.balanceOf(address(settlement));
        uint256 owed = handler.ghostFunded() - handler.ghostClaimedTotal();
        assertGe(bal, settlement.outstanding(), "settlement balance < outstanding()");
        assertGe(bal, owed, "settlement balance < ghost outstanding");
        assertEq(settlement.totalFunded(), handler.ghostFunded(), "totalFunded");
        assertEq(settlement.totalClaimed(), handler.ghostClaimedTotal(), "totalClaimed");
        assertEq(bal, owed, "settlement balance != outstanding");
        for (uint256 i = 0; i < claimantAddrs.length; i++) {
            assertEq(settlement.claimed(claimantAddrs[i]), handler.ghostClaimed(claimantAddrs[i]), "claimed");
        }
    }

    /// Claims never exceed the cumulative total of the newest claimable batch, and the batch chain (newest
    /// batch, carry, claimable batch) is the one the handler's model expects.
    function invariant_claimedWithinNewestClaimableBatch() public view {
        uint256 ce = settlement.claimableEpoch();
        assertEq(ce, handler.modelClaimableEpoch(), "claimable epoch");
        if (ce == 0) {
            assertEq(settlement.totalClaimed(), 0, "claims without a claimable batch");
        } else {
            uint256 cumulativeTotal = settlement.getBatch(ce).cumulativeTotal;
            assertEq(cumulativeTotal, handler.modelCumulativeTotal(ce), "cumulative total");
            assertLe(settlement.totalClaimed(), cumulativeTotal, "totalClaimed > posted cumulative total");
            assertLe(cumulativeTotal, settlement.totalFunded(), "posted more than was funded");
        }
        uint256 head = settlement.lastPostedEpoch();
        assertEq(head, handler.ghostLastPosted(), "newest batch");
        if (head != 0) {
            assertEq(settlement.getBatch(head).claimableAt, handler.modelClaimableAt(head), "claimable at");
        }
        assertEq(settlement.carry(), handler.ghostCarry(), "carry");
    }

    /// Every settled fee is split exactly: fee == owner + pool + treasury (per event, checked by the
    /// handler, and in sum), the event amounts are what the rules give, the treasury received exactly the
    /// treasury shares and the settlement exactly the pool shares.
    function invariant_feeSplitConserved() public view {
        assertEq(handler.evFee(), handler.evOwner() + handler.evPool() + handler.evTreasury(), "sum fee != split");
        assertEq(handler.evFee(), handler.predFee(), "fees");
        assertEq(handler.evOwner(), handler.predOwner(), "owner shares");
        assertEq(handler.evPool(), handler.predPool(), "pool shares");
        assertEq(handler.evTreasury(), handler.predTreasury(), "treasury shares");
        assertEq(token.balanceOf(treasury) - treasuryStart, handler.evTreasury(), "treasury received");
        assertEq(settlement.totalFunded(), handler.evPool(), "pools funded");
        assertEq(handler.mismatches(), 0, handler.firstMismatch());
    }

    /// Every action the handler attempted with valid inputs went through: no valid withdrawal, settlement,
    /// post, claim or revocation was refused.
    function invariant_validActionsNeverRevert() public view {
        assertEq(handler.unexpectedReverts(), 0, handler.firstRevertAction());
    }

    /// At the end of every run: the run did real work. No call with valid inputs reverted, at least a
    /// third of its 64 calls changed state (about 70 % do; the rest return early because their
    /// precondition is absent, e.g. no pending withdrawal, nothing in a dispute window to revoke, nothing
    /// left to claim), and money moved (settles and posts are never skipped; none of them in 64 calls has
    /// a probability of (10/12)^64, about 1e-5, per run).
    function afterInvariant() public view {
        uint256 ok = handler.successes() - setUpSuccesses;
        assertGe(ok, 21, "fewer than a third of the calls succeeded");
        assertGe(handler.nSettle() + handler.nPost(), 1, "no settle and no post");
        assertEq(handler.unexpectedReverts(), 0, handler.firstRevertAction());
    }

    // ======================================================== the handler itself

    /// A scripted sequence in which every action succeeds, so the handler is known to exercise each path
    /// the invariants rely on (rejections, a signed post, a claim and a claimFor, a revocation and its
    /// re-post with the next nonce, a delayed withdrawal, an owner withdrawal).
    function test_handler_everyActionSucceedsAndMatchesTheModel() public {
        for (uint256 i = 0; i < 6; i++) {
            handler.settle(uint256(keccak256(abi.encode("batch", i))), 7); // 8 items
        }
        assertEq(handler.nSettle(), 6);
        assertEq(router.lastBatch(operator), 6);
        assertGt(handler.itemsSettled(), 0, "some items settled");
        assertGt(handler.itemsRejected(), 0, "some items rejected");
        assertEq(handler.itemsSettled() + handler.itemsRejected(), 48);
        assertGt(settlement.poolOf(1), 0, "epoch 1 funded");

        // Post epoch 1 paying out the whole pool (mode 1), signed by two signers; then claim it twice.
        uint256 pool1 = settlement.poolOf(1);
        handler.postBatch(uint256(1) << 136);
        assertEq(handler.nPost(), 1);
        assertEq(settlement.lastPostedEpoch(), 1);
        assertEq(settlement.getBatch(1).total, pool1);
        assertEq(settlement.carry(), 0);
        handler.claim(0); // waits out the dispute window, claims itself
        handler.claim(uint256(1) << 64); // claimFor by a payer
        assertEq(handler.nClaim(), 2);
        assertGt(settlement.totalClaimed(), 0);

        // More usage, a post for epoch 2 with three signatures, revoked by the guardian, then re-posted.
        handler.settle(uint256(keccak256("epoch 2")), 7);
        handler.postBatch((uint256(1) << 136) | (uint256(1) << 128));
        uint256 e = settlement.lastPostedEpoch();
        assertGt(e, 1);
        handler.revoke(0);
        assertEq(handler.nRevoke(), 1);
        assertEq(settlement.lastPostedEpoch(), 1);
        assertTrue(settlement.getBatch(e).revoked);
        handler.postBatch(uint256(2) << 136);
        assertEq(handler.nPost(), 3);
        assertEq(settlement.lastPostedEpoch(), e);
        assertEq(settlement.nextNonce(e), 2);
        handler.claim(3);

        handler.requestWithdrawal(0, 10 ether);
        handler.withdraw(0); // waits out the withdrawal delay
        handler.withdrawOwnerEarnings(0);
        handler.approveOperator(3, 0);
        handler.deposit(3, 7 ether);
        handler.warp(1 hours);
        handler.setDisputeWindow(0);
        assertEq(settlement.disputeWindow(), 0);
        assertEq(handler.nWindow(), 1);
        assertEq(handler.nRequest(), 1);
        assertEq(handler.nWithdraw(), 1);
        assertEq(handler.nOwnerWithdraw(), 1);
        assertEq(handler.nWarp(), 1);

        // Refusals: a second claim of each fully claimed leaf, a claim one wei above a leaf, a post above
        // what is available, a withdrawal request above the escrow, a replayed batch number.
        for (uint256 k = 0; k < 5; k++) {
            handler.tryInvalid(k << 8);
        }
        assertEq(handler.nRefused(), 3, "three claimants fully claimed epoch 1");
        handler.tryInvalid(1);
        handler.tryInvalid(2);
        handler.tryInvalid(3);
        handler.tryInvalid(4);
        assertEq(handler.nRefused(), 7);

        assertEq(handler.unexpectedReverts(), 0, handler.firstRevertAction());
        assertEq(handler.mismatches(), 0, handler.firstMismatch());
        invariant_routerHoldsEscrowAndOwnerEarnings();
        invariant_settlementHoldsOutstanding();
        invariant_claimedWithinNewestClaimableBatch();
        invariant_feeSplitConserved();
    }
}
