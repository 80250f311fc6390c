// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Fixture} from "./utils/Fixture.sol";
import {InferenceRouter} from "../src/InferenceRouter.sol";
import {AttributionSettlement} from "../src/AttributionSettlement.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";

/// Log recording cheatcodes (not in the npm forge-std 1.1.2 `Vm`).
interface VmLogs {
    struct Log {
        bytes32[] topics;
        bytes data;
        address emitter;
    }

    function recordLogs() external;
    function getRecordedLogs() external returns (Log[] memory);
}

/// Unit and fuzz tests of the Payable AI router: escrow, operator allowances, withdrawals with a delay,
/// batch settlement (ordering, exact fee split, rejections, fund movements, events) and governance setters.
contract InferenceRouterTest is Fixture {
    VmLogs internal constant vml = VmLogs(address(uint160(uint256(keccak256("hevm cheat code")))));

    uint96 internal constant PRICE_IN = 1_234_567;
    uint96 internal constant PRICE_OUT = 7_654_321;
    uint96 internal constant PRICE2_IN = 2_000;
    uint96 internal constant PRICE2_OUT = 3_000;

    // Fee of (333 in, 777 out) on the first model: floor((333*1234567 + 777*7654321) / 1000), split 50/40/10.
    uint256 internal constant FEE_A = 6_358_518;
    uint256 internal constant OWNER_A = 3_179_259;
    uint256 internal constant POOL_A = 2_543_408;
    uint256 internal constant TREASURY_A = 635_851;
    // Fee of (1000 in, 0 out) on the first model: treasury 123456.7 and pool 493827.8 are floored per item.
    uint256 internal constant FEE_B = 1_234_567;
    uint256 internal constant OWNER_B = 617_283;
    uint256 internal constant POOL_B = 493_828;
    uint256 internal constant TREASURY_B = 123_456;

    bytes32 internal constant PERMIT_TYPEHASH =
        keccak256("Permit(address owner,address spender,uint256 value,uint256 nonce,uint256 deadline)");
    bytes32 internal constant DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");

    address internal modelOwner = address(0xA0DE1);
    address internal modelOwner2 = address(0xA0DE2);
    address internal alice = address(0xA11CE5);
    address internal bob = address(0xB0B5);
    address internal carol = address(0xCA7015);
    address internal operator2 = address(0x0BE8);

    uint256 internal datanetId;
    uint256 internal modelId;
    uint256 internal model2Id;

    struct Amounts {
        uint256 fee;
        uint256 owner;
        uint256 pool;
        uint256 treasury;
    }

    function setUp() public override {
        super.setUp();
        datanetId = _datanetWithVersion(modelOwner);
        modelId = _model(modelOwner, datanetId, PRICE_IN, PRICE_OUT);
        model2Id = _model(modelOwner2, datanetId, PRICE2_IN, PRICE2_OUT);
        vm.prank(gov);
        router.setOperator(operator2, true);
    }

    // ================================================================ helpers

    function _item(bytes32 id, address payer, uint256 model, uint32 tin, uint32 tout)
        internal
        pure
        returns (InferenceRouter.Item memory)
    {
        return InferenceRouter.Item({requestId: id, payer: payer, modelId: uint64(model), tokensIn: tin, tokensOut: tout});
    }

    function _one(InferenceRouter.Item memory it) internal pure returns (InferenceRouter.Item[] memory items) {
        items = new InferenceRouter.Item[](1);
        items[0] = it;
    }

    function _settle(address op, uint256 batchNumber, InferenceRouter.Item[] memory items) internal {
        vm.prank(op);
        router.settle(batchNumber, items);
    }

    function _bal(address payer) internal view returns (uint256 balance) {
        (balance,) = router.escrowOf(payer);
    }

    function _pending(address payer) internal view returns (uint256 pending) {
        (, pending) = router.escrowOf(payer);
    }

    function _amounts(uint256 fee, uint256 owner_, uint256 pool, uint256 treasury_)
        internal
        pure
        returns (Amounts memory a)
    {
        a.fee = fee;
        a.owner = owner_;
        a.pool = pool;
        a.treasury = treasury_;
    }

    function _topic(address a) internal pure returns (bytes32) {
        return bytes32(uint256(uint160(a)));
    }

    function _checkSettled(
        VmLogs.Log memory log,
        InferenceRouter.Item memory it,
        uint256 epoch,
        uint256 batchNumber,
        address owner_,
        Amounts memory a
    ) internal {
        assertEq(log.emitter, address(router), "InferenceSettled emitter");
        assertEq(log.topics.length, 4, "InferenceSettled topics");
        assertEq(log.topics[0], InferenceRouter.InferenceSettled.selector, "InferenceSettled topic0");
        assertEq(log.topics[1], it.requestId, "requestId");
        assertEq(log.topics[2], bytes32(uint256(it.modelId)), "modelId");
        assertEq(log.topics[3], _topic(it.payer), "payer");
        bytes memory data = bytes.concat(
            abi.encode(epoch, batchNumber, owner_, uint256(it.tokensIn), uint256(it.tokensOut)),
            abi.encode(a.fee, a.owner, a.pool, a.treasury)
        );
        assertEq(log.data, data, "InferenceSettled data");
    }

    function _checkRejected(
        VmLogs.Log memory log,
        InferenceRouter.Item memory it,
        address op,
        uint256 batchNumber,
        uint256 fee,
        InferenceRouter.RejectReason reason
    ) internal {
        assertEq(log.emitter, address(router), "InferenceRejected emitter");
        assertEq(log.topics.length, 4, "InferenceRejected topics");
        assertEq(log.topics[0], InferenceRouter.InferenceRejected.selector, "InferenceRejected topic0");
        assertEq(log.topics[1], it.requestId, "requestId");
        assertEq(log.topics[2], bytes32(uint256(it.modelId)), "modelId");
        assertEq(log.topics[3], _topic(it.payer), "payer");
        assertEq(log.data, abi.encode(op, batchNumber, fee, uint256(reason)), "InferenceRejected data");
    }

    function _checkBatch(
        VmLogs.Log memory log,
        address op,
        uint256 batchNumber,
        uint256 epoch,
        uint256 settled,
        uint256 rejected,
        Amounts memory t
    ) internal {
        assertEq(log.emitter, address(router), "BatchSettled emitter");
        assertEq(log.topics.length, 3, "BatchSettled topics");
        assertEq(log.topics[0], InferenceRouter.BatchSettled.selector, "BatchSettled topic0");
        assertEq(log.topics[1], _topic(op), "operator");
        assertEq(log.topics[2], bytes32(batchNumber), "batchNumber");
        assertEq(
            log.data, abi.encode(epoch, settled, rejected, t.fee, t.owner, t.pool, t.treasury), "BatchSettled data"
        );
    }

    function _checkTransfer(VmLogs.Log memory log, address from, address to, uint256 amount) internal {
        assertEq(log.emitter, address(token), "Transfer emitter");
        assertEq(log.topics.length, 3, "Transfer topics");
        assertEq(log.topics[0], IERC20.Transfer.selector, "Transfer topic0");
        assertEq(log.topics[1], _topic(from), "from");
        assertEq(log.topics[2], _topic(to), "to");
        assertEq(log.data, abi.encode(amount), "Transfer data");
    }

    function _checkPoolFunded(VmLogs.Log memory log, uint256 epoch, uint256 amount, uint256 poolTotal) internal {
        assertEq(log.emitter, address(settlement), "PoolFunded emitter");
        assertEq(log.topics.length, 2, "PoolFunded topics");
        assertEq(log.topics[0], AttributionSettlement.PoolFunded.selector, "PoolFunded topic0");
        assertEq(log.topics[1], bytes32(epoch), "epoch");
        assertEq(log.data, abi.encode(amount, poolTotal), "PoolFunded data");
    }

    function _permitDigest(address owner_, uint256 value, uint256 nonce, uint256 deadline)
        internal
        view
        returns (bytes32)
    {
        bytes32 domain =
            keccak256(abi.encode(DOMAIN_TYPEHASH, keccak256("Open"), keccak256("1"), block.chainid, address(token)));
        assertEq(domain, token.DOMAIN_SEPARATOR(), "domain separator");
        bytes32 structHash = keccak256(abi.encode(PERMIT_TYPEHASH, owner_, address(router), value, nonce, deadline));
        return keccak256(abi.encodePacked("\x19\x01", domain, structHash));
    }

    /// Sets `who`'s OPEN balance directly (OpenToken keeps `_balances` in slot 0), for amounts beyond the supply.
    function _setTokenBalance(address who, uint256 amount) internal {
        vm.store(address(token), keccak256(abi.encode(who, uint256(0))), bytes32(amount));
        assertEq(token.balanceOf(who), amount, "balance slot");
    }

    // ================================================================ deposits

    function test_deposit_movesTokensIntoEscrowAndAccumulates() public {
        _fund(alice, 100 ether);
        vm.prank(alice);
        token.approve(address(router), 100 ether);

        vmx.expectEmit(address(router));
        emit InferenceRouter.Deposited(alice, alice, 40 ether, 40 ether);
        vm.prank(alice);
        router.deposit(40 ether);

        vmx.expectEmit(address(router));
        emit InferenceRouter.Deposited(alice, alice, 60 ether, 100 ether);
        vm.prank(alice);
        router.deposit(60 ether);

        assertEq(_bal(alice), 100 ether);
        assertEq(_pending(alice), 0);
        assertEq(token.balanceOf(alice), 0);
        assertEq(token.balanceOf(address(router)), 100 ether);
    }

    function test_deposit_revertsOnZeroAmount() public {
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(InferenceRouter.ZeroAmount.selector));
        router.deposit(0);
    }

    function test_deposit_revertsWithoutTokenApproval() public {
        _fund(alice, 10 ether);
        vm.prank(alice);
        vm.expectRevert(
            abi.encodeWithSelector(IERC20Errors.ERC20InsufficientAllowance.selector, address(router), 0, 10 ether)
        );
        router.deposit(10 ether);
    }

    function test_depositFor_creditsPayerFromSender() public {
        _fund(bob, 5 ether);
        vm.prank(bob);
        token.approve(address(router), 5 ether);

        vmx.expectEmit(address(router));
        emit InferenceRouter.Deposited(alice, bob, 5 ether, 5 ether);
        vm.prank(bob);
        router.depositFor(alice, 5 ether);

        assertEq(_bal(alice), 5 ether);
        assertEq(_bal(bob), 0);
        assertEq(token.balanceOf(bob), 0);
        assertEq(token.balanceOf(address(router)), 5 ether);
    }

    function test_depositFor_revertsOnZeroPayerOrAmount() public {
        _fund(bob, 5 ether);
        vm.prank(bob);
        token.approve(address(router), 5 ether);
        vm.prank(bob);
        vm.expectRevert(abi.encodeWithSelector(InferenceRouter.ZeroAddress.selector));
        router.depositFor(address(0), 5 ether);
        vm.prank(bob);
        vm.expectRevert(abi.encodeWithSelector(InferenceRouter.ZeroAmount.selector));
        router.depositFor(alice, 0);
    }

    function test_depositWithPermit_depositsWithSignedPermit() public {
        uint256 key = 0xBEEF01;
        address p = vm.addr(key);
        _fund(p, 7 ether);
        uint256 deadline = block.timestamp + 1 hours;
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, _permitDigest(p, 7 ether, 0, deadline));

        vmx.expectEmit(address(router));
        emit InferenceRouter.Deposited(p, p, 7 ether, 7 ether);
        vm.prank(p);
        router.depositWithPermit(7 ether, deadline, v, r, s);

        assertEq(_bal(p), 7 ether);
        assertEq(token.nonces(p), 1, "permit nonce used");
        assertEq(token.allowance(p, address(router)), 0, "allowance spent");
        assertEq(token.balanceOf(p), 0);
        assertEq(token.balanceOf(address(router)), 7 ether);
    }

    function test_depositWithPermit_succeedsWhenPermitWasFrontRun() public {
        uint256 key = 0xBEEF02;
        address p = vm.addr(key);
        _fund(p, 3 ether);
        uint256 deadline = block.timestamp + 1 hours;
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, _permitDigest(p, 3 ether, 0, deadline));
        // Someone submits the permit first: the allowance is in place, the nonce is used.
        vm.prank(bob);
        token.permit(p, address(router), 3 ether, deadline, v, r, s);

        vm.prank(p);
        router.depositWithPermit(3 ether, deadline, v, r, s);
        assertEq(_bal(p), 3 ether);
        assertEq(token.nonces(p), 1);
        assertEq(token.allowance(p, address(router)), 0);
    }

    function test_depositWithPermit_revertsWhenPermitInvalidAndNoAllowance() public {
        uint256 key = 0xBEEF03;
        address p = vm.addr(key);
        _fund(p, 3 ether);
        uint256 deadline = block.timestamp + 1 hours;
        // Signed by another key: the permit fails (ignored) and the transfer has no allowance.
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(0xBAD, _permitDigest(p, 3 ether, 0, deadline));
        vm.prank(p);
        vm.expectRevert(
            abi.encodeWithSelector(IERC20Errors.ERC20InsufficientAllowance.selector, address(router), 0, 3 ether)
        );
        router.depositWithPermit(3 ether, deadline, v, r, s);

        // A correctly signed but expired permit is refused the same way.
        (v, r, s) = vm.sign(key, _permitDigest(p, 3 ether, 0, deadline));
        vm.warp(deadline + 1);
        vm.prank(p);
        vm.expectRevert(
            abi.encodeWithSelector(IERC20Errors.ERC20InsufficientAllowance.selector, address(router), 0, 3 ether)
        );
        router.depositWithPermit(3 ether, deadline, v, r, s);
        assertEq(_bal(p), 0);
        assertEq(token.nonces(p), 0);
    }

    // ================================================================ operator allowance

    function test_approveOperator_setsAndReplacesAllowance() public {
        vmx.expectEmit(address(router));
        emit InferenceRouter.OperatorApproved(alice, operator, 5 ether);
        vm.prank(alice);
        router.approveOperator(operator, 5 ether);
        assertEq(router.operatorAllowance(alice, operator), 5 ether);
        assertEq(router.operatorAllowance(alice, operator2), 0, "per operator");

        vmx.expectEmit(address(router));
        emit InferenceRouter.OperatorApproved(alice, operator, 1);
        vm.prank(alice);
        router.approveOperator(operator, 1);
        assertEq(router.operatorAllowance(alice, operator), 1, "replaced, not added");
    }

    // ================================================================ withdrawals

    function test_requestWithdrawal_recordsAmountAndAvailability() public {
        _escrow(alice, 100 ether);
        vm.warp(1000);
        vmx.expectEmit(address(router));
        emit InferenceRouter.WithdrawalRequested(alice, 30 ether, 1000 + WITHDRAWAL_DELAY);
        vm.prank(alice);
        router.requestWithdrawal(30 ether);
        assertEq(_pending(alice), 30 ether);
        assertEq(_bal(alice), 100 ether, "balance untouched until withdraw");
        assertEq(router.withdrawalAvailableAt(alice), 1000 + WITHDRAWAL_DELAY);

        // A new request replaces the old one, and restarts the delay.
        vm.warp(2000);
        vmx.expectEmit(address(router));
        emit InferenceRouter.WithdrawalRequested(alice, 100 ether, 2000 + WITHDRAWAL_DELAY);
        vm.prank(alice);
        router.requestWithdrawal(100 ether);
        assertEq(_pending(alice), 100 ether);
        assertEq(router.withdrawalAvailableAt(alice), 2000 + WITHDRAWAL_DELAY);
    }

    function test_requestWithdrawal_revertsAboveBalance() public {
        _escrow(alice, 100 ether);
        vm.prank(alice);
        vm.expectRevert(
            abi.encodeWithSelector(InferenceRouter.InsufficientBalance.selector, alice, 100 ether, 100 ether + 1)
        );
        router.requestWithdrawal(100 ether + 1);
        vm.prank(bob);
        vm.expectRevert(abi.encodeWithSelector(InferenceRouter.InsufficientBalance.selector, bob, 0, 1));
        router.requestWithdrawal(1);
    }

    function test_requestWithdrawal_revertsOnZero() public {
        _escrow(alice, 100 ether);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(InferenceRouter.ZeroAmount.selector));
        router.requestWithdrawal(0);
    }

    function test_withdraw_revertsWithoutRequest() public {
        _escrow(alice, 100 ether);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(InferenceRouter.NoWithdrawalRequested.selector, alice));
        router.withdraw();
    }

    function test_withdraw_waitsForDelayToTheSecond() public {
        _escrow(alice, 100 ether);
        vm.warp(5000);
        vm.prank(alice);
        router.requestWithdrawal(30 ether);
        uint64 at = 5000 + WITHDRAWAL_DELAY;

        vm.warp(at - 1);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(InferenceRouter.WithdrawalNotReady.selector, alice, at));
        router.withdraw();

        vm.warp(at);
        vmx.expectEmit(address(router));
        emit InferenceRouter.Withdrawn(alice, 30 ether, 70 ether);
        vm.prank(alice);
        router.withdraw();
        assertEq(token.balanceOf(alice), 30 ether);
        assertEq(token.balanceOf(address(router)), 70 ether);
        assertEq(_bal(alice), 70 ether);
        assertEq(_pending(alice), 0);

        // The request is consumed.
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(InferenceRouter.NoWithdrawalRequested.selector, alice));
        router.withdraw();
    }

    function test_withdraw_paysWhatSettlementLeftWhenLessThanRequested() public {
        _escrow(alice, 10_000_000);
        vm.warp(100);
        vm.prank(alice);
        router.requestWithdrawal(8_000_000);
        // Usage served before the request is still billed during the delay.
        _settle(operator, 1, _one(_item("r1", alice, modelId, 333, 777)));
        uint256 left = 10_000_000 - FEE_A;
        assertEq(_bal(alice), left);
        assertEq(_pending(alice), 8_000_000);

        vm.warp(100 + WITHDRAWAL_DELAY);
        vmx.expectEmit(address(router));
        emit InferenceRouter.Withdrawn(alice, left, 0);
        vm.prank(alice);
        router.withdraw();
        assertEq(token.balanceOf(alice), left);
        assertEq(_bal(alice), 0);
        assertEq(_pending(alice), 0);
        assertEq(token.balanceOf(address(router)), OWNER_A, "only the model owner's earnings remain");
    }

    // ================================================================ settle: access and ordering

    function test_settle_revertsForNonOperator() public {
        _escrow(alice, 1 ether);
        InferenceRouter.Item[] memory items = _one(_item("r1", alice, modelId, 1, 1));
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(InferenceRouter.NotOperator.selector, alice));
        router.settle(1, items);

        vm.prank(gov);
        router.setOperator(operator, false);
        vm.prank(operator);
        vm.expectRevert(abi.encodeWithSelector(InferenceRouter.NotOperator.selector, operator));
        router.settle(1, items);
    }

    function test_settle_refusesRepeatedAndSkippedBatchNumbers() public {
        _escrow(alice, 1 ether);
        InferenceRouter.Item[] memory items = _one(_item("r1", alice, modelId, 333, 777));

        vm.prank(operator);
        vm.expectRevert(abi.encodeWithSelector(InferenceRouter.BatchOutOfOrder.selector, operator, 1, 0));
        router.settle(0, items);
        vm.prank(operator);
        vm.expectRevert(abi.encodeWithSelector(InferenceRouter.BatchOutOfOrder.selector, operator, 1, 2));
        router.settle(2, items);

        _settle(operator, 1, items);
        assertEq(router.lastBatch(operator), 1);

        // Replaying batch 1 is refused: nothing is billed twice.
        vm.prank(operator);
        vm.expectRevert(abi.encodeWithSelector(InferenceRouter.BatchOutOfOrder.selector, operator, 2, 1));
        router.settle(1, items);
        vm.prank(operator);
        vm.expectRevert(abi.encodeWithSelector(InferenceRouter.BatchOutOfOrder.selector, operator, 2, 3));
        router.settle(3, items);
        assertEq(_bal(alice), 1 ether - FEE_A, "billed once");

        _settle(operator, 2, items);
        assertEq(router.lastBatch(operator), 2);
        assertEq(_bal(alice), 1 ether - 2 * FEE_A);

        // Numbering is per operator.
        assertEq(router.lastBatch(operator2), 0);
        vm.prank(alice);
        router.approveOperator(operator2, type(uint256).max);
        vm.prank(operator2);
        vm.expectRevert(abi.encodeWithSelector(InferenceRouter.BatchOutOfOrder.selector, operator2, 1, 3));
        router.settle(3, items);
        _settle(operator2, 1, items);
        assertEq(router.lastBatch(operator2), 1);
        assertEq(router.lastBatch(operator), 2);
    }

    function test_settle_revertsOnEmptyBatchWithoutUsingTheNumber() public {
        InferenceRouter.Item[] memory none = new InferenceRouter.Item[](0);
        vm.prank(operator);
        vm.expectRevert(abi.encodeWithSelector(InferenceRouter.EmptyBatch.selector));
        router.settle(1, none);
        assertEq(router.lastBatch(operator), 0);

        _escrow(alice, 1 ether);
        _settle(operator, 1, _one(_item("r1", alice, modelId, 1, 1)));
        assertEq(router.lastBatch(operator), 1);
    }

    // ================================================================ settle: amounts and events

    function test_settle_emitsExactEventsAndMovesFunds() public {
        _escrow(alice, 1 ether);
        _escrow(bob, 1 ether);
        _endEpoch(2); // now in epoch 3
        uint256 epoch = settlement.currentEpoch();
        assertEq(epoch, 3);

        InferenceRouter.Item[] memory items = new InferenceRouter.Item[](2);
        items[0] = _item(keccak256("req-0"), alice, modelId, 333, 777);
        items[1] = _item(keccak256("req-1"), bob, model2Id, 4_000, 1_500);
        // Second item: floor((4000*2000 + 1500*3000)/1000) = 12500 -> 6250 / 5000 / 1250.
        Amounts memory a1 = _amounts(12_500, 6_250, 5_000, 1_250);
        Amounts memory tot = _amounts(FEE_A + 12_500, OWNER_A + 6_250, POOL_A + 5_000, TREASURY_A + 1_250);

        uint256 routerBefore = token.balanceOf(address(router));
        vml.recordLogs();
        _settle(operator, 1, items);
        VmLogs.Log[] memory logs = vml.getRecordedLogs();

        assertEq(logs.length, 6, "log count");
        _checkSettled(logs[0], items[0], epoch, 1, modelOwner, _amounts(FEE_A, OWNER_A, POOL_A, TREASURY_A));
        _checkSettled(logs[1], items[1], epoch, 1, modelOwner2, a1);
        _checkTransfer(logs[2], address(router), treasury, tot.treasury);
        _checkTransfer(logs[3], address(router), address(settlement), tot.pool);
        _checkPoolFunded(logs[4], epoch, tot.pool, tot.pool);
        _checkBatch(logs[5], operator, 1, epoch, 2, 0, tot);

        assertEq(_bal(alice), 1 ether - FEE_A);
        assertEq(_bal(bob), 1 ether - 12_500);
        assertEq(router.ownerEarnings(modelOwner), OWNER_A);
        assertEq(router.ownerEarnings(modelOwner2), 6_250);
        assertEq(token.balanceOf(treasury), tot.treasury);
        assertEq(token.balanceOf(address(settlement)), tot.pool);
        assertEq(token.balanceOf(address(router)), routerBefore - tot.treasury - tot.pool);
        assertEq(settlement.poolOf(epoch), tot.pool);
        assertEq(settlement.poolOf(1), 0);
        assertEq(settlement.totalFunded(), tot.pool);
    }

    function test_settle_floorsEachItemSeparately() public {
        _escrow(alice, 1 ether);
        InferenceRouter.Item[] memory items = new InferenceRouter.Item[](2);
        items[0] = _item("a", alice, modelId, 1000, 0);
        items[1] = _item("b", alice, modelId, 1000, 0);
        vml.recordLogs();
        _settle(operator, 1, items);
        VmLogs.Log[] memory logs = vml.getRecordedLogs();
        Amounts memory each = _amounts(FEE_B, OWNER_B, POOL_B, TREASURY_B);
        _checkSettled(logs[0], items[0], 1, 1, modelOwner, each);
        _checkSettled(logs[1], items[1], 1, 1, modelOwner, each);
        // Totals are sums of per-item floors: treasury 246912, not floor(2469134 * 10%) = 246913.
        _checkBatch(logs[5], operator, 1, 1, 2, 0, _amounts(2 * FEE_B, 2 * OWNER_B, 2 * POOL_B, 2 * TREASURY_B));
        assertEq(token.balanceOf(treasury), 246_912);
        assertEq(token.balanceOf(address(settlement)), 987_656);
        assertEq(router.ownerEarnings(modelOwner), 1_234_566);
        assertEq(_bal(alice), 1 ether - 2_469_134);
    }

    function test_settle_fundsThePoolOfTheCurrentEpoch() public {
        _escrow(alice, 1 ether);
        _settle(operator, 1, _one(_item("a", alice, modelId, 333, 777)));
        assertEq(settlement.poolOf(1), POOL_A);

        // A second batch in the same epoch adds to its pool.
        vmx.expectEmit(address(settlement));
        emit AttributionSettlement.PoolFunded(1, POOL_B, POOL_A + POOL_B);
        _settle(operator, 2, _one(_item("b", alice, modelId, 1000, 0)));
        assertEq(settlement.poolOf(1), POOL_A + POOL_B);

        _endEpoch(1);
        vmx.expectEmit(address(settlement));
        emit AttributionSettlement.PoolFunded(2, POOL_A, POOL_A);
        _settle(operator, 3, _one(_item("c", alice, modelId, 333, 777)));
        assertEq(settlement.poolOf(1), POOL_A + POOL_B);
        assertEq(settlement.poolOf(2), POOL_A);
        assertEq(settlement.totalFunded(), 2 * POOL_A + POOL_B);
        assertEq(token.balanceOf(address(settlement)), 2 * POOL_A + POOL_B);
        assertEq(token.balanceOf(treasury), 2 * TREASURY_A + TREASURY_B);
    }

    function test_settle_rejectsUncoverableItemsAndSettlesTheRest() public {
        _escrow(alice, 1 ether);
        _escrow(bob, FEE_B - 1); // one wei short for a FEE_B item
        _escrow(carol, 1 ether);
        vm.prank(carol);
        router.approveOperator(operator, FEE_B - 1); // one wei short of allowance
        vm.prank(modelOwner2);
        models.setActive(model2Id, false);

        InferenceRouter.Item[] memory items = new InferenceRouter.Item[](6);
        items[0] = _item("ok-1", alice, modelId, 333, 777);
        items[1] = _item("no-escrow", bob, modelId, 1000, 0);
        items[2] = _item("no-allowance", carol, modelId, 1000, 0);
        items[3] = _item("inactive", alice, model2Id, 1000, 1000); // fee 5000
        items[4] = _item("unknown-model", alice, 999, 1000, 1000); // no prices: fee 0
        items[5] = _item("ok-2", alice, modelId, 0, 1); // fee 7654 -> 3827 / 3062 / 765

        vml.recordLogs();
        _settle(operator, 1, items);
        VmLogs.Log[] memory logs = vml.getRecordedLogs();

        Amounts memory tot = _amounts(FEE_A + 7_654, OWNER_A + 3_827, POOL_A + 3_062, TREASURY_A + 765);
        assertEq(logs.length, 10, "log count");
        _checkSettled(logs[0], items[0], 1, 1, modelOwner, _amounts(FEE_A, OWNER_A, POOL_A, TREASURY_A));
        _checkRejected(logs[1], items[1], operator, 1, FEE_B, InferenceRouter.RejectReason.InsufficientEscrow);
        _checkRejected(logs[2], items[2], operator, 1, FEE_B, InferenceRouter.RejectReason.InsufficientAllowance);
        _checkRejected(logs[3], items[3], operator, 1, 5_000, InferenceRouter.RejectReason.ModelInactive);
        _checkRejected(logs[4], items[4], operator, 1, 0, InferenceRouter.RejectReason.ModelInactive);
        _checkSettled(logs[5], items[5], 1, 1, modelOwner, _amounts(7_654, 3_827, 3_062, 765));
        _checkTransfer(logs[6], address(router), treasury, tot.treasury);
        _checkTransfer(logs[7], address(router), address(settlement), tot.pool);
        _checkPoolFunded(logs[8], 1, tot.pool, tot.pool);
        _checkBatch(logs[9], operator, 1, 1, 2, 4, tot);

        assertEq(_bal(alice), 1 ether - FEE_A - 7_654);
        assertEq(_bal(bob), FEE_B - 1, "rejected: nothing moved");
        assertEq(_bal(carol), 1 ether, "rejected: nothing moved");
        assertEq(router.operatorAllowance(carol, operator), FEE_B - 1, "rejected: allowance untouched");
        assertEq(router.ownerEarnings(modelOwner), OWNER_A + 3_827);
        assertEq(router.ownerEarnings(modelOwner2), 0);
    }

    function test_settle_escrowIsCheckedBeforeAllowance() public {
        _escrow(bob, 10);
        vm.prank(bob);
        router.approveOperator(operator, 10);
        InferenceRouter.Item[] memory items = _one(_item("x", bob, modelId, 1000, 0));
        vml.recordLogs();
        _settle(operator, 1, items);
        VmLogs.Log[] memory logs = vml.getRecordedLogs();
        assertEq(logs.length, 2);
        _checkRejected(logs[0], items[0], operator, 1, FEE_B, InferenceRouter.RejectReason.InsufficientEscrow);
        _checkBatch(logs[1], operator, 1, 1, 0, 1, _amounts(0, 0, 0, 0));
        assertEq(token.balanceOf(address(settlement)), 0);
        assertEq(settlement.totalFunded(), 0);
        assertEq(router.lastBatch(operator), 1, "an all-rejected batch still uses its number");
    }

    function test_settle_allowsFeeEqualToEscrowAndAllowance() public {
        _escrow(bob, FEE_B);
        vm.prank(bob);
        router.approveOperator(operator, FEE_B);
        _settle(operator, 1, _one(_item("x", bob, modelId, 1000, 0)));
        assertEq(_bal(bob), 0);
        assertEq(router.operatorAllowance(bob, operator), 0);
        assertEq(router.ownerEarnings(modelOwner), OWNER_B);
    }

    function test_settle_decreasesFiniteAllowanceButNotMax() public {
        _escrow(alice, 1 ether); // max allowance
        _escrow(carol, 1 ether);
        vm.prank(carol);
        router.approveOperator(operator, 10_000_000);

        InferenceRouter.Item[] memory items = new InferenceRouter.Item[](2);
        items[0] = _item("a", alice, modelId, 333, 777);
        items[1] = _item("c", carol, modelId, 333, 777);
        _settle(operator, 1, items);
        assertEq(router.operatorAllowance(alice, operator), type(uint256).max);
        assertEq(router.operatorAllowance(carol, operator), 10_000_000 - FEE_A);

        // The remaining finite allowance no longer covers a second such item.
        vml.recordLogs();
        _settle(operator, 2, items);
        VmLogs.Log[] memory logs = vml.getRecordedLogs();
        _checkRejected(logs[1], items[1], operator, 2, FEE_A, InferenceRouter.RejectReason.InsufficientAllowance);
        assertEq(router.operatorAllowance(carol, operator), 10_000_000 - FEE_A);
        assertEq(_bal(carol), 1 ether - FEE_A);
        assertEq(_bal(alice), 1 ether - 2 * FEE_A);
    }

    function test_settle_allowanceIsPerOperator() public {
        _escrow(alice, 1 ether); // approves `operator` only
        InferenceRouter.Item[] memory items = _one(_item("a", alice, modelId, 333, 777));
        vml.recordLogs();
        _settle(operator2, 1, items);
        VmLogs.Log[] memory logs = vml.getRecordedLogs();
        _checkRejected(logs[0], items[0], operator2, 1, FEE_A, InferenceRouter.RejectReason.InsufficientAllowance);
        assertEq(_bal(alice), 1 ether);
    }

    function test_settle_zeroFeeItemSettlesWithoutTransfers() public {
        _escrow(alice, 1 ether);
        InferenceRouter.Item[] memory items = _one(_item("z", alice, modelId, 0, 0));
        vml.recordLogs();
        _settle(operator, 1, items);
        VmLogs.Log[] memory logs = vml.getRecordedLogs();
        assertEq(logs.length, 2);
        _checkSettled(logs[0], items[0], 1, 1, modelOwner, _amounts(0, 0, 0, 0));
        _checkBatch(logs[1], operator, 1, 1, 1, 0, _amounts(0, 0, 0, 0));
        assertEq(_bal(alice), 1 ether);
    }

    // ================================================================ owner earnings

    function test_withdrawOwnerEarnings_paysCreditedShare() public {
        vm.prank(modelOwner);
        vm.expectRevert(abi.encodeWithSelector(InferenceRouter.ZeroAmount.selector));
        router.withdrawOwnerEarnings();

        _escrow(alice, 1 ether);
        _settle(operator, 1, _one(_item("a", alice, modelId, 333, 777)));
        uint256 routerBefore = token.balanceOf(address(router));

        vmx.expectEmit(address(router));
        emit InferenceRouter.OwnerEarningsWithdrawn(modelOwner, OWNER_A);
        vm.prank(modelOwner);
        router.withdrawOwnerEarnings();
        assertEq(token.balanceOf(modelOwner), OWNER_A);
        assertEq(token.balanceOf(address(router)), routerBefore - OWNER_A);
        assertEq(router.ownerEarnings(modelOwner), 0);
        assertEq(token.balanceOf(address(router)), _bal(alice), "router holds exactly the escrow");

        vm.prank(modelOwner);
        vm.expectRevert(abi.encodeWithSelector(InferenceRouter.ZeroAmount.selector));
        router.withdrawOwnerEarnings();
    }

    // ================================================================ governance

    function test_setOperator_onlyOwner() public {
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, alice));
        router.setOperator(alice, true);

        vmx.expectEmit(address(router));
        emit InferenceRouter.OperatorSet(alice, true);
        vm.prank(gov);
        router.setOperator(alice, true);
        assertTrue(router.isOperator(alice));

        vmx.expectEmit(address(router));
        emit InferenceRouter.OperatorSet(alice, false);
        vm.prank(gov);
        router.setOperator(alice, false);
        assertTrue(!router.isOperator(alice));
    }

    function test_setFeeShares_onlyOwnerAndMustSumTo10000() public {
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, alice));
        router.setFeeShares(6000, 3000, 1000);

        vm.startPrank(gov);
        vm.expectRevert(abi.encodeWithSelector(InferenceRouter.InvalidShares.selector, 5000, 4000, 1001));
        router.setFeeShares(5000, 4000, 1001);
        vm.expectRevert(abi.encodeWithSelector(InferenceRouter.InvalidShares.selector, 5000, 3999, 1000));
        router.setFeeShares(5000, 3999, 1000);
        vm.expectRevert(abi.encodeWithSelector(InferenceRouter.InvalidShares.selector, 0, 0, 0));
        router.setFeeShares(0, 0, 0);
        vm.expectRevert(abi.encodeWithSelector(InferenceRouter.InvalidShares.selector, 65535, 65535, 65535));
        router.setFeeShares(type(uint16).max, type(uint16).max, type(uint16).max);

        vmx.expectEmit(address(router));
        emit InferenceRouter.FeeSharesSet(6000, 3000, 1000);
        router.setFeeShares(6000, 3000, 1000);
        vm.stopPrank();
        assertEq(router.ownerBps(), 6000);
        assertEq(router.poolBps(), 3000);
        assertEq(router.treasuryBps(), 1000);

        // The next settlement uses the new split: 6358518 -> 3815110 / 1907557 / 635851.
        _escrow(alice, 1 ether);
        InferenceRouter.Item[] memory items = _one(_item("a", alice, modelId, 333, 777));
        vml.recordLogs();
        _settle(operator, 1, items);
        VmLogs.Log[] memory logs = vml.getRecordedLogs();
        _checkSettled(logs[0], items[0], 1, 1, modelOwner, _amounts(FEE_A, 3_815_110, 1_907_557, 635_851));
    }

    function test_setTreasury_onlyOwnerNonZeroAndUsedBySettle() public {
        address newTreasury = address(0x7EA6);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, alice));
        router.setTreasury(newTreasury);
        vm.prank(gov);
        vm.expectRevert(abi.encodeWithSelector(InferenceRouter.ZeroAddress.selector));
        router.setTreasury(address(0));

        vmx.expectEmit(address(router));
        emit InferenceRouter.TreasurySet(newTreasury);
        vm.prank(gov);
        router.setTreasury(newTreasury);
        assertEq(router.treasury(), newTreasury);

        _escrow(alice, 1 ether);
        _settle(operator, 1, _one(_item("a", alice, modelId, 333, 777)));
        assertEq(token.balanceOf(newTreasury), TREASURY_A);
        assertEq(token.balanceOf(treasury), 0);
    }

    function test_setDelays_onlyOwnerAndDelayAtLeastInterval() public {
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, alice));
        router.setDelays(60, 60);

        vm.prank(gov);
        vm.expectRevert(abi.encodeWithSelector(InferenceRouter.WithdrawalDelayTooShort.selector, 59, 60));
        router.setDelays(60, 59);

        vmx.expectEmit(address(router));
        emit InferenceRouter.DelaysSet(60, 60);
        vm.prank(gov);
        router.setDelays(60, 60);
        assertEq(router.settlementInterval(), 60);
        assertEq(router.withdrawalDelay(), 60);

        // New requests use the new delay.
        _escrow(alice, 1 ether);
        vm.warp(10_000);
        vm.prank(alice);
        router.requestWithdrawal(1 ether);
        assertEq(router.withdrawalAvailableAt(alice), 10_060);
    }

    // ================================================================ quote

    function test_quote_equalsWhatSettleCharges() public {
        (uint256 fee, uint256 o, uint256 p, uint256 t) = router.quote(modelId, 333, 777);
        assertEq(fee, FEE_A);
        assertEq(o, OWNER_A);
        assertEq(p, POOL_A);
        assertEq(t, TREASURY_A);

        _escrow(alice, 1 ether);
        InferenceRouter.Item[] memory items = _one(_item("a", alice, modelId, 333, 777));
        vml.recordLogs();
        _settle(operator, 1, items);
        VmLogs.Log[] memory logs = vml.getRecordedLogs();
        _checkSettled(logs[0], items[0], 1, 1, modelOwner, _amounts(fee, o, p, t));
        assertEq(_bal(alice), 1 ether - fee);
    }

    // ================================================================ fuzz

    function _fuzzSetup(uint96 pIn, uint96 pOut, uint256 oBps, uint256 tBps)
        internal
        returns (uint256 ownerBps_, uint256 treasuryBps_)
    {
        ownerBps_ = bound(oBps, 0, 10_000);
        treasuryBps_ = bound(tBps, 0, 10_000 - ownerBps_);
        vm.prank(gov);
        router.setFeeShares(uint16(ownerBps_), uint16(10_000 - ownerBps_ - treasuryBps_), uint16(treasuryBps_));
        vm.prank(modelOwner);
        models.setPrices(modelId, pIn, pOut);
    }

    function _escrowAny(address payer, uint256 amount) internal {
        _setTokenBalance(payer, amount);
        vm.prank(payer);
        token.approve(address(router), amount);
        vm.prank(payer);
        router.deposit(amount);
        vm.prank(payer);
        router.approveOperator(operator, type(uint256).max);
    }

    function _quote(uint256 tin, uint256 tout) internal view returns (Amounts memory q) {
        (q.fee, q.owner, q.pool, q.treasury) = router.quote(modelId, tin, tout);
    }

    function _checkSplit(Amounts memory q, uint256 fee, uint256 ob, uint256 tb) internal pure {
        assertEq(q.fee, fee, "quote fee");
        assertEq(q.owner, fee * ob / 10_000, "owner floor");
        assertEq(q.treasury, fee * tb / 10_000, "treasury floor");
        assertEq(q.owner + q.pool + q.treasury, fee, "split sums to fee");
        uint256 poolFloor = fee * (10_000 - ob - tb) / 10_000;
        assertTrue(q.pool >= poolFloor && q.pool <= poolFloor + 2, "pool is the rest (floor plus rounding dust)");
    }

    function testFuzz_settle_splitIsExactAndBalancesAreConserved(
        uint32 tin,
        uint32 tout,
        uint96 pIn,
        uint96 pOut,
        uint16 oBps,
        uint16 tBps,
        uint64 extra
    ) public {
        (uint256 ob, uint256 tb) = _fuzzSetup(pIn, pOut, oBps, tBps);
        uint256 fee = (uint256(tin) * pIn + uint256(tout) * pOut) / 1000;
        _escrowAny(alice, fee + uint256(extra) + 1);
        Amounts memory q = _quote(tin, tout);
        _checkSplit(q, fee, ob, tb);

        _settleOneAndCheckConservation(tin, tout, q);
    }

    /// Settles one item of alice's on the first model and checks the money moved exactly as `q` says.
    function _settleOneAndCheckConservation(uint32 tin, uint32 tout, Amounts memory q) internal {
        uint256 escrowBefore = _bal(alice);
        uint256 routerBefore = token.balanceOf(address(router));
        uint256 sum = routerBefore + token.balanceOf(treasury) + token.balanceOf(address(settlement));

        InferenceRouter.Item[] memory items = _one(_item("f", alice, modelId, tin, tout));
        vml.recordLogs();
        _settle(operator, 1, items);
        VmLogs.Log[] memory logs = vml.getRecordedLogs();
        _checkSettled(logs[0], items[0], 1, 1, modelOwner, q);

        assertEq(_bal(alice), escrowBefore - q.fee, "escrow down by exactly fee");
        assertEq(router.ownerEarnings(modelOwner), q.owner);
        assertEq(token.balanceOf(treasury), q.treasury);
        assertEq(token.balanceOf(address(settlement)), q.pool);
        assertEq(settlement.poolOf(1), q.pool);
        assertEq(token.balanceOf(address(router)), routerBefore - q.pool - q.treasury);
        assertEq(
            token.balanceOf(address(router)) + token.balanceOf(treasury) + token.balanceOf(address(settlement)),
            sum,
            "conserved"
        );
        assertEq(
            token.balanceOf(address(router)),
            _bal(alice) + router.ownerEarnings(modelOwner),
            "router holds escrow plus owner earnings"
        );
    }

    function testFuzz_settle_batchTotalsAreSumsOfItemSplits(
        uint32[3] calldata tins,
        uint32[3] calldata touts,
        uint96 pIn,
        uint96 pOut,
        uint16 oBps,
        uint16 tBps
    ) public {
        _fuzzSetup(pIn, pOut, oBps, tBps);
        InferenceRouter.Item[] memory items = new InferenceRouter.Item[](3);
        Amounts memory tot;
        for (uint256 i = 0; i < 3; i++) {
            items[i] = _item(bytes32(i), alice, modelId, tins[i], touts[i]);
            Amounts memory q = _quote(tins[i], touts[i]);
            tot.fee += q.fee;
            tot.owner += q.owner;
            tot.pool += q.pool;
            tot.treasury += q.treasury;
        }
        _escrowAny(alice, tot.fee + 1);
        vml.recordLogs();
        _settle(operator, 1, items);
        VmLogs.Log[] memory logs = vml.getRecordedLogs();
        _checkBatch(logs[logs.length - 1], operator, 1, 1, 3, 0, tot);
        assertEq(tot.owner + tot.pool + tot.treasury, tot.fee);
        assertEq(_bal(alice), 1, "escrow spent exactly");
        assertEq(token.balanceOf(treasury), tot.treasury);
        assertEq(token.balanceOf(address(settlement)), tot.pool);
        assertEq(token.balanceOf(address(router)), tot.owner + 1);
    }

    function testFuzz_settle_rejectsWhenEscrowShort(uint32 tin, uint32 tout, uint96 pIn, uint96 pOut, uint256 short)
        public
    {
        _fuzzSetup(pIn, pOut, 5000, 1000);
        uint256 fee = (uint256(tin) * pIn + uint256(tout) * pOut) / 1000;
        vm.assume(fee > 1);
        short = bound(short, 1, fee - 1);
        _escrowAny(alice, fee - short);
        InferenceRouter.Item[] memory items = _one(_item("s", alice, modelId, tin, tout));
        vml.recordLogs();
        _settle(operator, 1, items);
        VmLogs.Log[] memory logs = vml.getRecordedLogs();
        _checkRejected(logs[0], items[0], operator, 1, fee, InferenceRouter.RejectReason.InsufficientEscrow);
        assertEq(_bal(alice), fee - short);
        assertEq(token.balanceOf(address(settlement)), 0);
    }
}
