// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Fixture} from "./utils/Fixture.sol";
import {MerkleHelper} from "./utils/MerkleHelper.sol";
import {InferenceRouter} from "../src/InferenceRouter.sol";
import {AttributionSettlement} from "../src/AttributionSettlement.sol";
import {ModelRegistry} from "../src/ModelRegistry.sol";
import {DatanetRegistry} from "../src/DatanetRegistry.sol";

/// An empty call, to tell whether forge runs each top-level call as its own transaction.
contract GasProbe {
    function ping() external {}
}

/// Gas benchmark behind the README's gas table:
///   forge test --gas-report --match-path contracts/test/Gas.t.sol      (per-function rows)
///   forge test -vv --match-path contracts/test/Gas.t.sol                (the numbers below, as logs)
/// Every measured operation is its own external call from a test function, and all state it needs was
/// prepared in `setUp` (a separate transaction), so storage and accounts start cold as in a real
/// transaction. Each test measures with gasleft() around a call made with prebuilt calldata (so no
/// argument encoding falls inside the measurement) and asserts the targets on the call's execution gas:
/// contribute <= 150000, settle <= 25000 per inference (batch of 100), claim <= 80000.
///
/// The gasleft() difference always contains the caller's cold access to the called account (2600; in a
/// real transaction that account is `tx.to` and already warm), which is taken off. What else it contains
/// depends on the mode. Plain `forge test` runs the whole test as one transaction: the rest is the call's
/// execution gas (within about 100 gas of the callee frame's gas in a -vvvv trace). `--gas-report` turns
/// on isolation (`--isolate`): each top-level call runs as its own transaction, so the rest is that
/// transaction's gas, with the 21000 intrinsic gas and the calldata gas (EIP-2028) in it, which is also
/// what the gas report's rows show. The tests log "tx gas (isolated)" in that mode, and always the execution
/// gas (less 21000 and the calldata gas under isolation), and assert the targets on the execution gas.
abstract contract GasBase is Fixture {
    uint256 internal constant CONTRIBUTE_TARGET = 150_000;
    uint256 internal constant SETTLE_PER_INFERENCE_TARGET = 25_000;
    uint256 internal constant CLAIM_TARGET = 80_000;
    uint256 internal constant COLD_ACCOUNT_ACCESS = 2_600;

    /// A realistic 46-character contribution URI.
    string internal constant URI46 = "s3://tributary-data/dn-1/contrib-0001234.jsonl";

    GasProbe internal probe;

    function setUp() public virtual override {
        super.setUp();
        probe = new GasProbe();
    }

    /// Whether top-level calls run as separate transactions (forge --isolate, implied by --gas-report).
    /// Call it before `vm.prank`, which applies to the next call.
    function _isolated() internal returns (bool) {
        uint256 g = gasleft();
        probe.ping();
        return g - gasleft() > 15_000;
    }

    /// EIP-2028 calldata gas.
    function _calldataGas(bytes memory data) internal pure returns (uint256 c) {
        for (uint256 i = 0; i < data.length; i++) {
            c += data[i] == 0 ? 4 : 16;
        }
    }

    /// Calls `target` with `callData` straight from memory (no copy, no return data copied inside the
    /// measurement), reverts with its error if it fails, and returns the gasleft() difference around the
    /// call and the return data. `vm.prank` right before applies to this call.
    function _call(address target, bytes memory callData) internal returns (uint256 raw, bytes memory ret) {
        bool ok;
        uint256 g = gasleft();
        assembly ("memory-safe") {
            ok := call(gas(), target, 0, add(callData, 0x20), mload(callData), 0, 0)
        }
        raw = g - gasleft();
        assembly ("memory-safe") {
            ret := mload(0x40)
            mstore(ret, returndatasize())
            returndatacopy(add(ret, 0x20), 0, returndatasize())
            mstore(0x40, add(add(ret, 0x20), and(add(returndatasize(), 0x1f), not(0x1f))))
        }
        if (!ok) {
            assembly ("memory-safe") {
                revert(add(ret, 0x20), mload(ret))
            }
        }
    }

    /// Logs a measurement and returns the call's execution gas (see the contract comment).
    function _record(string memory label, uint256 raw, bytes memory callData, bool isolated)
        internal
        returns (uint256 execution)
    {
        execution = raw - COLD_ACCOUNT_ACCESS;
        if (isolated) {
            execution -= 21_000 + _calldataGas(callData);
            emit log_named_uint(string.concat("tx gas (isolated)  ", label), raw - COLD_ACCOUNT_ACCESS);
        }
        emit log_named_uint(string.concat("execution gas      ", label), execution);
    }
}

/// DatanetRegistry.contribute / review and ModelRegistry.registerModel, in a steady state: the registry
/// already holds stake and has contributions, the contributor holds OPEN and has approved the registry.
contract GasRegistryTest is GasBase {
    address internal dnOwner = address(0xD0);
    address internal contributor = address(0xC0);
    address internal builder = address(0xB1);
    uint256 internal dnId;
    uint256 internal pendingId;

    function setUp() public override {
        super.setUp();
        vm.prank(dnOwner);
        dnId = datanets.createDatanet("ipfs://meta", "text", "CC-BY-4.0", 10 ether, false);
        _fund(contributor, 1_000 ether);
        vm.prank(contributor);
        token.approve(address(datanets), type(uint256).max);
        vm.prank(contributor);
        datanets.contribute(dnId, keccak256("earlier"), 1000, URI46, 10 ether);
        vm.prank(contributor);
        pendingId = datanets.contribute(dnId, keccak256("pending"), 2000, URI46, 10 ether);
        vm.prank(dnOwner);
        datanets.review(1, true, 9000);
        vm.prank(dnOwner);
        datanets.publishVersion(dnId, keccak256("v1"), 1, "s3://tributary-data/dn-1/v1.json");
    }

    function test_gas_contribute() public {
        assertEq(bytes(URI46).length, 46);
        bytes32 h = keccak256("new rows");
        bytes memory cd = abi.encodeCall(DatanetRegistry.contribute, (dnId, h, 123_456, URI46, 10 ether));
        bool iso = _isolated();
        vm.prank(contributor);
        (uint256 raw, bytes memory ret) = _call(address(datanets), cd);
        uint256 used = _record("DatanetRegistry.contribute (10 OPEN stake, 46-char URI)", raw, cd, iso);
        assertEq(abi.decode(ret, (uint256)), 3);
        assertEq(token.balanceOf(address(datanets)), 30 ether);
        assertLe(used, CONTRIBUTE_TARGET, "contribute gas target");
    }

    function test_gas_review() public {
        bytes memory cd = abi.encodeCall(DatanetRegistry.review, (pendingId, true, 8500));
        bool iso = _isolated();
        vm.prank(dnOwner);
        (uint256 raw,) = _call(address(datanets), cd);
        _record("DatanetRegistry.review (accept, quality 8500)", raw, cd, iso);
        assertEq(uint256(datanets.getContribution(pendingId).status), uint256(DatanetRegistry.Status.Accepted));
    }

    function test_gas_registerModel() public {
        ModelRegistry.DatanetVersion[] memory used_ = new ModelRegistry.DatanetVersion[](1);
        used_[0] = ModelRegistry.DatanetVersion({datanetId: uint64(dnId), version: 1});
        ModelRegistry.Registration memory r = ModelRegistry.Registration({
            name: "support-bot",
            baseModel: "TinyLlama-1.1B-Chat",
            metadataURI: "s3://tributary-models/support-bot/meta.json",
            priceIn: 2e14,
            priceOut: 6e14,
            adapterHash: keccak256("adapter"),
            adapterURI: "s3://tributary-models/support-bot/v1.safetensors",
            datanets: used_,
            manifestHash: keccak256("manifest")
        });
        bytes memory cd = abi.encodeCall(ModelRegistry.registerModel, (r));
        bool iso = _isolated();
        vm.prank(builder);
        (uint256 raw, bytes memory ret) = _call(address(models), cd);
        _record("ModelRegistry.registerModel (1 datanet version)", raw, cd, iso);
        (uint256 modelId, uint256 runId) = abi.decode(ret, (uint256, uint256));
        assertEq(modelId, 1);
        assertEq(runId, 1);
    }
}

/// 20 payers (escrow 1000 OPEN each, unlimited allowance for the operator) and 10 models with distinct
/// owners. A batch is 100 inferences: item i is billed to payer i % 20 on model (i % 20 + i / 20) % 10,
/// so each payer has 5 items on 5 different models and each model 10 items; tokensIn 200..1999,
/// tokensOut 50..749; model j costs (j+1)·1e14 wei per 1k input and 2·(j+1)·1e14 per 1k output tokens.
abstract contract GasSettleBase is GasBase {
    uint256 internal constant PAYERS = 20;
    uint256 internal constant MODELS = 10;
    uint256 internal constant BATCH = 100;

    address[] internal payers;
    uint256[] internal modelIds;

    function setUp() public virtual override {
        super.setUp();
        uint256 dn = _datanetWithVersion(address(0xD0));
        for (uint256 j = 0; j < MODELS; j++) {
            uint96 p = uint96((j + 1) * 1e14);
            modelIds.push(_model(address(uint160(0x3000 + j)), dn, p, 2 * p));
        }
        for (uint256 k = 0; k < PAYERS; k++) {
            address payer = address(uint160(0x2000 + k));
            payers.push(payer);
            _escrow(payer, 1_000 ether);
        }
    }

    function _batch(uint256 batchNumber) internal view returns (InferenceRouter.Item[] memory items) {
        items = new InferenceRouter.Item[](BATCH);
        for (uint256 i = 0; i < BATCH; i++) {
            items[i] = InferenceRouter.Item({
                requestId: keccak256(abi.encode(batchNumber, i)),
                payer: payers[i % PAYERS],
                modelId: uint64(modelIds[(i % PAYERS + i / PAYERS) % MODELS]),
                tokensIn: uint32(200 + (i * 37) % 1800),
                tokensOut: uint32(50 + (i * 53) % 700)
            });
        }
    }

    /// Settles `batchNumber` and returns the gas of the call; checks that all 100 items were billed.
    function _measureSettle(uint256 batchNumber, string memory label) internal returns (uint256 used) {
        InferenceRouter.Item[] memory items = _batch(batchNumber);
        bytes memory cd = abi.encodeCall(InferenceRouter.settle, (batchNumber, items));
        bool iso = _isolated();
        vm.prank(operator);
        (uint256 raw,) = _call(address(router), cd);
        used = _record(string.concat("InferenceRouter.settle, 100 items, ", label), raw, cd, iso);
        if (iso) {
            emit log_named_uint(string.concat("tx gas per inference ", label), (raw - COLD_ACCOUNT_ACCESS) / BATCH);
        }
        emit log_named_uint(string.concat("execution gas per inference ", label), used / BATCH);

        // Every item settled: each payer paid exactly the quoted fees of its items.
        uint256 feeTotal;
        for (uint256 i = 0; i < BATCH; i++) {
            (uint256 fee,,,) = router.quote(items[i].modelId, items[i].tokensIn, items[i].tokensOut);
            feeTotal += fee;
        }
        uint256 escrowTotal;
        for (uint256 k = 0; k < PAYERS; k++) {
            (uint256 b,) = router.escrowOf(payers[k]);
            escrowTotal += b;
        }
        assertEq(escrowTotal, PAYERS * 1_000 ether - batchNumber * feeTotal, "all items billed");
        assertEq(router.lastBatch(operator), batchNumber);
        assertLe(used / BATCH, SETTLE_PER_INFERENCE_TARGET, "settle gas per inference target");
    }
}

/// The first batch ever: model owners' earnings, the treasury's and the settlement contract's balances,
/// the epoch pool and the operator's batch counter all go from zero to nonzero.
contract GasSettleColdTest is GasSettleBase {
    function test_gas_settle_firstBatch() public {
        _measureSettle(1, "cold first batch");
    }
}

/// Steady state: an earlier batch in the same epoch already made every payer's escrow, every model
/// owner's earnings, the treasury's and settlement's balances and the epoch pool nonzero.
contract GasSettleWarmTest is GasSettleBase {
    function setUp() public override {
        super.setUp();
        InferenceRouter.Item[] memory items = _batch(1);
        vm.prank(operator);
        router.settle(1, items);
    }

    function test_gas_settle_steadyState() public {
        _measureSettle(2, "warm steady state");
    }
}

/// A payout tree of 1000 cumulative leaves (depth 10) paying 500.4995 OPEN out of a 1000 OPEN epoch pool.
abstract contract GasAttributionBase is GasBase {
    uint256 internal constant LEAVES = 1000;
    uint256 internal constant ZERO_BALANCE_INDEX = 500;
    uint256 internal constant NONZERO_BALANCE_INDEX = 700;
    uint256 internal constant EARLIER_CLAIM_INDEX = 3;

    AttributionSettlement.PayoutBatch internal batch;
    bytes[] internal sigs;

    function _account(uint256 i) internal pure returns (address) {
        return address(uint160(0x100000 + i));
    }

    function _amount(uint256 i) internal pure returns (uint256) {
        return 0.5 ether + i * 1e12;
    }

    function _leaves() internal pure returns (bytes32[] memory leaves) {
        leaves = new bytes32[](LEAVES);
        for (uint256 i = 0; i < LEAVES; i++) {
            leaves[i] = MerkleHelper.leaf(_account(i), _amount(i));
        }
    }

    function setUp() public virtual override {
        super.setUp();
        // Fund epoch 1's pool with 1000 OPEN as the router does (transfer, then record), without a
        // settle call here so that the gas report's settle rows are only the settle benchmarks.
        _fund(address(settlement), 1_000 ether);
        vm.prank(address(router));
        settlement.recordPoolFunding(1, 1_000 ether);
        _endEpoch(1);

        uint256 total;
        for (uint256 i = 0; i < LEAVES; i++) {
            total += _amount(i);
        }
        batch = AttributionSettlement.PayoutBatch({
            epoch: 1,
            nonce: 0,
            root: MerkleHelper.root(_leaves()),
            total: total,
            scoreFileHash: keccak256("score file"),
            signerSetVersion: settlement.signerSetVersion()
        });
        bytes[] memory s = _sign(batch, 2);
        for (uint256 i = 0; i < s.length; i++) {
            sigs.push(s[i]);
        }
    }
}

contract GasPostBatchTest is GasAttributionBase {
    function test_gas_postBatch() public {
        AttributionSettlement.PayoutBatch memory b = batch;
        bytes[] memory s = sigs;
        bytes memory cd = abi.encodeCall(AttributionSettlement.postBatch, (b, s));
        bool iso = _isolated();
        vm.prank(attributor);
        (uint256 raw,) = _call(address(settlement), cd);
        _record("AttributionSettlement.postBatch (2-of-3 signatures)", raw, cd, iso);
        assertEq(settlement.lastPostedEpoch(), 1);
    }
}

/// Claims once the batch is claimable, after an earlier claim by another account (so the settlement's
/// running totals are already nonzero). The claiming account has not delegated its votes.
contract GasClaimTest is GasAttributionBase {
    uint256 internal constant HELD = 5 ether;

    function setUp() public override {
        super.setUp();
        vm.prank(attributor);
        settlement.postBatch(batch, sigs);
        vm.warp(block.timestamp + DISPUTE_WINDOW);
        bytes32[] memory proof = MerkleHelper.proof(_leaves(), EARLIER_CLAIM_INDEX);
        vm.prank(_account(EARLIER_CLAIM_INDEX));
        settlement.claim(_amount(EARLIER_CLAIM_INDEX), proof);
        _fund(_account(NONZERO_BALANCE_INDEX), HELD);
    }

    function _measureClaim(uint256 index, string memory label) internal returns (uint256 used) {
        bytes32[] memory proof = MerkleHelper.proof(_leaves(), index);
        assertEq(proof.length, 10, "depth-10 proof");
        address account = _account(index);
        uint256 amount = _amount(index);
        bytes memory cd = abi.encodeCall(AttributionSettlement.claim, (amount, proof));
        bool iso = _isolated();
        vm.prank(account);
        (uint256 raw,) = _call(address(settlement), cd);
        used = _record(string.concat("AttributionSettlement.claim (1000 leaves, depth 10), ", label), raw, cd, iso);
        assertEq(settlement.claimed(account), amount);
        assertLe(used, CLAIM_TARGET, "claim gas target");
    }

    function test_gas_claim_toZeroBalanceAccount() public {
        _measureClaim(ZERO_BALANCE_INDEX, "account with zero balance");
        assertEq(token.balanceOf(_account(ZERO_BALANCE_INDEX)), _amount(ZERO_BALANCE_INDEX));
    }

    function test_gas_claim_toNonzeroBalanceAccount() public {
        _measureClaim(NONZERO_BALANCE_INDEX, "account with nonzero balance");
        assertEq(token.balanceOf(_account(NONZERO_BALANCE_INDEX)), HELD + _amount(NONZERO_BALANCE_INDEX));
    }
}
