// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {Fixture} from "./utils/Fixture.sol";
import {MerkleHelper} from "./utils/MerkleHelper.sol";
import {InferenceRouter} from "../src/InferenceRouter.sol";
import {AttributionSettlement} from "../src/AttributionSettlement.sol";

/// Unit and fuzz tests of AttributionSettlement: the epoch clock, governance setters, pool funding
/// (through the real InferenceRouter where money flows end to end), signed payout batches, revocation and
/// cumulative Merkle claims.
contract AttributionSettlementTest is Fixture {
    uint256 internal constant SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141;
    uint96 internal constant PRICE_IN = 1_234_567_891;
    uint96 internal constant PRICE_OUT = 9_876_543_210;

    bytes32 internal constant DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");
    bytes32 internal constant BATCH_TYPEHASH = keccak256(
        "PayoutBatch(uint256 epoch,uint256 nonce,bytes32 root,uint256 total,bytes32 scoreFileHash,uint256 signerSetVersion)"
    );

    address internal alice = address(0xA11CE0);
    address internal bob = address(0xB0B0B0);
    address internal carol = address(0xCA7001);
    address internal dave = address(0xDA7E00);
    address internal modelOwner = address(0x30DE1);
    address internal payer = address(0xFA7E);

    uint256 internal t0;
    uint256 internal modelId;
    uint256 internal opBatch;
    uint256 internal reqNo;

    function setUp() public override {
        super.setUp();
        t0 = settlement.anchorTime();
        uint256 dn = _datanetWithVersion(modelOwner);
        modelId = _model(modelOwner, dn, PRICE_IN, PRICE_OUT);
        _escrow(payer, 1_000_000 ether);
    }

    // =================================================================== helpers

    /// The pool share of one inference, computed here from the design's rules (not read from the router).
    function _expectedPool(uint256 tIn, uint256 tOut) internal pure returns (uint256) {
        uint256 fee = (tIn * PRICE_IN + tOut * PRICE_OUT) / 1000;
        return fee - (fee * OWNER_BPS) / 10_000 - (fee * TREASURY_BPS) / 10_000;
    }

    /// Settles one real inference through the router as the operator; returns its pool amount.
    function _serve(uint32 tIn, uint32 tOut) internal returns (uint256 pool) {
        uint256 epoch = settlement.currentEpoch();
        uint256 poolBefore = settlement.poolOf(epoch);
        uint256 balBefore = token.balanceOf(address(settlement));
        InferenceRouter.Item[] memory items = new InferenceRouter.Item[](1);
        items[0] = InferenceRouter.Item({
            requestId: keccak256(abi.encode("req", ++reqNo)),
            payer: payer,
            modelId: uint64(modelId),
            tokensIn: tIn,
            tokensOut: tOut
        });
        vm.prank(operator);
        router.settle(++opBatch, items);
        pool = _expectedPool(tIn, tOut);
        assertGt(pool, 0, "pool share");
        assertEq(settlement.poolOf(epoch) - poolBefore, pool, "pool recorded");
        assertEq(token.balanceOf(address(settlement)) - balBefore, pool, "pool tokens moved");
    }

    /// Moves `amount` into `epoch`'s pool the way the router does, without an inference.
    function _fundPool(uint256 epoch, uint256 amount) internal {
        _fund(address(settlement), amount);
        vm.prank(address(router));
        settlement.recordPoolFunding(epoch, amount);
    }

    function _batch(uint256 epoch, uint256 nonce, bytes32 root, uint256 total)
        internal
        view
        returns (AttributionSettlement.PayoutBatch memory b)
    {
        b = AttributionSettlement.PayoutBatch({
            epoch: epoch,
            nonce: nonce,
            root: root,
            total: total,
            scoreFileHash: keccak256(abi.encode("scores", epoch, nonce)),
            signerSetVersion: settlement.signerSetVersion()
        });
    }

    /// Posts a batch for `epoch` at its next nonce, signed by two signers.
    function _post(uint256 epoch, bytes32 root, uint256 total)
        internal
        returns (AttributionSettlement.PayoutBatch memory b)
    {
        b = _batch(epoch, settlement.nextNonce(epoch), root, total);
        bytes[] memory sigs = _sign(b, 2);
        vm.prank(attributor);
        settlement.postBatch(b, sigs);
    }

    function _expectPostRevert(AttributionSettlement.PayoutBatch memory b, bytes[] memory sigs, bytes memory err)
        internal
    {
        vmx.expectRevert(err);
        vm.prank(attributor);
        settlement.postBatch(b, sigs);
    }

    function _claimableAt(uint256 epoch) internal view returns (uint256) {
        return settlement.getBatch(epoch).claimableAt;
    }

    function _leaves2(address a, uint256 amountA, address b, uint256 amountB)
        internal
        pure
        returns (bytes32[] memory l)
    {
        l = new bytes32[](2);
        l[0] = _leaf(a, amountA);
        l[1] = _leaf(b, amountB);
    }

    function _leaves3(address a, uint256 amountA, address b, uint256 amountB, address c, uint256 amountC)
        internal
        pure
        returns (bytes32[] memory l)
    {
        l = new bytes32[](3);
        l[0] = _leaf(a, amountA);
        l[1] = _leaf(b, amountB);
        l[2] = _leaf(c, amountC);
    }

    function _claimAs(address account, uint256 cumulative, bytes32[] memory proof) internal {
        vm.prank(account);
        settlement.claim(cumulative, proof);
    }

    /// EIP-712 digest of `b` for `verifying` on `chainId`, computed without the contract.
    function _digest(address verifying, uint256 chainId, AttributionSettlement.PayoutBatch memory b)
        internal
        pure
        returns (bytes32)
    {
        bytes32 domain = keccak256(
            abi.encode(DOMAIN_TYPEHASH, keccak256("TributaryAttribution"), keccak256("1"), chainId, verifying)
        );
        bytes32 structHash = keccak256(
            abi.encode(BATCH_TYPEHASH, b.epoch, b.nonce, b.root, b.total, b.scoreFileHash, b.signerSetVersion)
        );
        return keccak256(abi.encodePacked("\x19\x01", domain, structHash));
    }

    /// Signatures over `digest` by `keys`, ordered by signer address.
    function _signKeys(bytes32 digest, uint256[] memory keys) internal returns (bytes[] memory sigs) {
        uint256 n = keys.length;
        uint256[] memory k = new uint256[](n);
        for (uint256 i = 0; i < n; i++) {
            k[i] = keys[i];
        }
        for (uint256 i = 0; i < n; i++) {
            for (uint256 j = i + 1; j < n; j++) {
                if (vm.addr(k[j]) < vm.addr(k[i])) (k[i], k[j]) = (k[j], k[i]);
            }
        }
        sigs = new bytes[](n);
        for (uint256 i = 0; i < n; i++) {
            (uint8 v, bytes32 r, bytes32 s) = vm.sign(k[i], digest);
            sigs[i] = abi.encodePacked(r, s, v);
        }
    }

    /// Signatures over `digest` by the first `count` fixture signers.
    function _signDigest(bytes32 digest, uint256 count) internal returns (bytes[] memory sigs) {
        sigs = new bytes[](count);
        for (uint256 i = 0; i < count; i++) {
            (uint8 v, bytes32 r, bytes32 s) = vm.sign(signerKeys[i], digest);
            sigs[i] = abi.encodePacked(r, s, v);
        }
    }

    function _recover(bytes32 digest, bytes memory sig) internal pure returns (address) {
        bytes32 r;
        bytes32 s;
        uint8 v;
        assembly {
            r := mload(add(sig, 0x20))
            s := mload(add(sig, 0x40))
            v := byte(0, mload(add(sig, 0x60)))
        }
        return ecrecover(digest, v, r, s);
    }

    /// The exact error a post of `sigs` over a digest they were not made for must revert with: the first
    /// signature recovers to some unrelated address, which is not a signer.
    function _replayError(AttributionSettlement target, bytes32 digest, bytes[] memory sigs)
        internal
        view
        returns (bytes memory)
    {
        address r0 = _recover(digest, sigs[0]);
        if (r0 == address(0)) return abi.encodeWithSelector(ECDSA.ECDSAInvalidSignature.selector);
        assertTrue(!target.isSigner(r0), "replayed signature recovered to a signer");
        return abi.encodeWithSelector(AttributionSettlement.UnknownSigner.selector, r0);
    }

    function _ownable(address who) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, who);
    }

    // ================================================================ epoch clock

    function test_constructor_startsEpochOneNow() public view {
        assertEq(settlement.anchorEpoch(), 1);
        assertEq(settlement.anchorTime(), block.timestamp);
        assertEq(settlement.epochLength(), EPOCH_LENGTH);
        assertEq(settlement.disputeWindow(), DISPUTE_WINDOW);
        assertEq(settlement.owner(), gov);
        assertEq(address(settlement.token()), address(token));
        assertEq(settlement.signerSetVersion(), 1);
    }

    function test_constructor_revertsOnZeroEpochLength() public {
        vm.expectRevert(AttributionSettlement.ZeroEpochLength.selector);
        new AttributionSettlement(IERC20(address(token)), gov, 0, DISPUTE_WINDOW);
    }

    function test_currentEpoch_advancesEveryEpochLength() public {
        assertEq(settlement.currentEpoch(), 1);
        vm.warp(t0 + EPOCH_LENGTH - 1);
        assertEq(settlement.currentEpoch(), 1);
        vm.warp(t0 + EPOCH_LENGTH);
        assertEq(settlement.currentEpoch(), 2);
        vm.warp(t0 + 10 * uint256(EPOCH_LENGTH) + 123);
        assertEq(settlement.currentEpoch(), 11);
    }

    function test_epochEnd_isStartOfNextEpoch() public {
        assertEq(settlement.epochEnd(1), t0 + EPOCH_LENGTH);
        assertEq(settlement.epochEnd(7), t0 + 7 * uint256(EPOCH_LENGTH));
        vm.warp(settlement.epochEnd(4) - 1);
        assertEq(settlement.currentEpoch(), 4);
        vm.warp(settlement.epochEnd(4));
        assertEq(settlement.currentEpoch(), 5);
    }

    function test_setEpochLength_shorterAnchorsAtCurrentEpochStart() public {
        uint256 start = t0 + 2 * uint256(EPOCH_LENGTH); // epoch 3 starts here
        vm.warp(start + 5 hours + 10 minutes);
        assertEq(settlement.currentEpoch(), 3);

        vm.expectEmit(true, true, true, true, address(settlement));
        emit AttributionSettlement.EpochClockSet(3, start, 1 hours);
        vm.prank(gov);
        settlement.setEpochLength(1 hours);

        assertEq(settlement.anchorEpoch(), 3);
        assertEq(settlement.anchorTime(), start);
        assertEq(settlement.epochLength(), 1 hours);
        // Five whole hours of the old epoch 3 have passed: the number moves forward, never back.
        assertEq(settlement.currentEpoch(), 8);
        assertEq(settlement.epochEnd(3), start + 1 hours);
        assertEq(settlement.epochEnd(8), start + 6 hours);
        // Epochs before the anchor ended at (or before) the anchor time.
        assertEq(settlement.epochEnd(2), start);
        assertEq(settlement.epochEnd(1), start);
        vm.warp(start + 6 hours);
        assertEq(settlement.currentEpoch(), 9);
    }

    function test_setEpochLength_longerKeepsCurrentEpochNumber() public {
        uint256 start = t0 + 2 * uint256(EPOCH_LENGTH);
        vm.warp(start + 5 hours);
        vm.prank(gov);
        settlement.setEpochLength(7 days);
        assertEq(settlement.currentEpoch(), 3);
        assertEq(settlement.epochEnd(3), start + 7 days);
        vm.warp(start + 7 days - 1);
        assertEq(settlement.currentEpoch(), 3);
        vm.warp(start + 7 days);
        assertEq(settlement.currentEpoch(), 4);
    }

    function test_setEpochLength_revertsOnZero() public {
        vm.prank(gov);
        vm.expectRevert(AttributionSettlement.ZeroEpochLength.selector);
        settlement.setEpochLength(0);
    }

    function test_setEpochLength_revertsForNonOwner() public {
        vmx.expectRevert(_ownable(attributor));
        vm.prank(attributor);
        settlement.setEpochLength(1 hours);
    }

    function testFuzz_setEpochLength_epochNumbersNeverGoBack(uint256 elapsed, uint64 newLength, uint256 later)
        public
    {
        elapsed = bound(elapsed, 0, 1000 days);
        newLength = uint64(bound(newLength, 1, 400 days));
        later = bound(later, 0, 1000 days);
        vm.warp(t0 + elapsed);
        uint256 before = settlement.currentEpoch();
        uint256 start = t0 + (before - 1) * EPOCH_LENGTH;

        vm.prank(gov);
        settlement.setEpochLength(newLength);

        assertEq(settlement.anchorEpoch(), before, "anchor epoch");
        assertEq(settlement.anchorTime(), start, "anchor time");
        uint256 nowEpoch = settlement.currentEpoch();
        assertEq(nowEpoch, before + (t0 + elapsed - start) / newLength, "epoch after change");
        assertGe(nowEpoch, before, "monotone at change");
        assertLe(settlement.epochEnd(nowEpoch) - newLength, block.timestamp, "current epoch started");
        assertGt(settlement.epochEnd(nowEpoch), block.timestamp, "current epoch not ended");

        vm.warp(t0 + elapsed + later);
        assertGe(settlement.currentEpoch(), nowEpoch, "monotone afterwards");
    }

    // ================================================================ governance setters

    function test_setDisputeWindow_setsAndEmits() public {
        vm.expectEmit(true, true, true, true, address(settlement));
        emit AttributionSettlement.DisputeWindowSet(2 days);
        vm.prank(gov);
        settlement.setDisputeWindow(2 days);
        assertEq(settlement.disputeWindow(), 2 days);
    }

    function test_setDisputeWindow_zeroMakesBatchesClaimableAtOnce() public {
        vm.prank(gov);
        settlement.setDisputeWindow(0);
        _fundPool(1, 100);
        _endEpoch(1);
        _post(1, _leaf(alice, 100), 100);
        assertEq(settlement.claimableEpoch(), 1);
        _claimAs(alice, 100, new bytes32[](0));
        assertEq(token.balanceOf(alice), 100);
    }

    function test_setDisputeWindow_revertsForNonOwner() public {
        vmx.expectRevert(_ownable(guardian));
        vm.prank(guardian);
        settlement.setDisputeWindow(1);
    }

    function test_setRouter_revertsOnZeroAddress() public {
        vm.prank(gov);
        vm.expectRevert(AttributionSettlement.ZeroAddress.selector);
        settlement.setRouter(address(0));
    }

    function test_setRouter_revertsForNonOwner() public {
        vmx.expectRevert(_ownable(operator));
        vm.prank(operator);
        settlement.setRouter(operator);
    }

    function test_setRouter_replacesTheFundingRouter() public {
        address newRouter = address(0x5E77);
        vm.expectEmit(true, true, true, true, address(settlement));
        emit AttributionSettlement.RouterSet(newRouter);
        vm.prank(gov);
        settlement.setRouter(newRouter);
        assertEq(settlement.router(), newRouter);

        vmx.expectRevert(abi.encodeWithSelector(AttributionSettlement.NotRouter.selector, address(router)));
        vm.prank(address(router));
        settlement.recordPoolFunding(1, 5);

        vm.prank(newRouter);
        settlement.recordPoolFunding(1, 5);
        assertEq(settlement.poolOf(1), 5);
    }

    function test_setGuardian_replacesTheGuardian() public {
        address newGuardian = address(0x6A7E);
        vm.expectEmit(true, true, true, true, address(settlement));
        emit AttributionSettlement.GuardianSet(newGuardian);
        vm.prank(gov);
        settlement.setGuardian(newGuardian);
        assertEq(settlement.guardian(), newGuardian);

        _fundPool(1, 10);
        _endEpoch(1);
        _post(1, _leaf(alice, 10), 10);
        vmx.expectRevert(abi.encodeWithSelector(AttributionSettlement.NotGuardian.selector, guardian));
        vm.prank(guardian);
        settlement.revokeBatch(1, "old guardian");
        vm.prank(newGuardian);
        settlement.revokeBatch(1, "new guardian");
        assertEq(settlement.lastPostedEpoch(), 0);
    }

    function test_setGuardian_revertsForNonOwner() public {
        vmx.expectRevert(_ownable(guardian));
        vm.prank(guardian);
        settlement.setGuardian(alice);
    }

    function test_setAttributor_enablesAndDisables() public {
        vm.expectEmit(true, true, true, true, address(settlement));
        emit AttributionSettlement.AttributorSet(alice, true);
        vm.prank(gov);
        settlement.setAttributor(alice, true);
        assertTrue(settlement.isAttributor(alice));

        vm.expectEmit(true, true, true, true, address(settlement));
        emit AttributionSettlement.AttributorSet(attributor, false);
        vm.prank(gov);
        settlement.setAttributor(attributor, false);
        assertTrue(!settlement.isAttributor(attributor));

        _fundPool(1, 10);
        _endEpoch(1);
        AttributionSettlement.PayoutBatch memory b = _batch(1, 0, _leaf(bob, 10), 10);
        bytes[] memory sigs = _sign(b, 2);
        _expectPostRevert(b, sigs, abi.encodeWithSelector(AttributionSettlement.NotAttributor.selector, attributor));
        vm.prank(alice);
        settlement.postBatch(b, sigs);
        assertEq(settlement.lastPostedEpoch(), 1);
    }

    function test_setAttributor_revertsForNonOwner() public {
        vmx.expectRevert(_ownable(attributor));
        vm.prank(attributor);
        settlement.setAttributor(alice, true);
    }

    // ---------------------------------------------------------------- setSigners

    function _addrs(address a, address b, address c) internal pure returns (address[] memory l) {
        l = new address[](3);
        l[0] = a;
        l[1] = b;
        l[2] = c;
    }

    function test_setSigners_revertsOnZeroThreshold() public {
        vmx.expectRevert(abi.encodeWithSelector(AttributionSettlement.InvalidThreshold.selector, 0, 3));
        vm.prank(gov);
        settlement.setSigners(signerAddrs, 0);
    }

    function test_setSigners_revertsOnThresholdAboveSignerCount() public {
        vmx.expectRevert(abi.encodeWithSelector(AttributionSettlement.InvalidThreshold.selector, 4, 3));
        vm.prank(gov);
        settlement.setSigners(signerAddrs, 4);
    }

    function test_setSigners_revertsOnEmptySet() public {
        vmx.expectRevert(abi.encodeWithSelector(AttributionSettlement.InvalidThreshold.selector, 1, 0));
        vm.prank(gov);
        settlement.setSigners(new address[](0), 1);
    }

    function test_setSigners_revertsOnDuplicate() public {
        address[] memory l = _addrs(alice, bob, alice);
        vmx.expectRevert(abi.encodeWithSelector(AttributionSettlement.DuplicateSigner.selector, alice));
        vm.prank(gov);
        settlement.setSigners(l, 2);
    }

    function test_setSigners_revertsOnZeroAddress() public {
        address[] memory l = _addrs(alice, address(0), bob);
        vm.expectRevert(AttributionSettlement.ZeroAddress.selector);
        vm.prank(gov);
        settlement.setSigners(l, 2);
    }

    function test_setSigners_revertsForNonOwner() public {
        vmx.expectRevert(_ownable(signerAddrs[0]));
        vm.prank(signerAddrs[0]);
        settlement.setSigners(signerAddrs, 1);
    }

    function test_setSigners_failedUpdateKeepsOldSet() public {
        address[] memory l = _addrs(alice, bob, bob);
        vm.prank(gov);
        vm.expectRevert(abi.encodeWithSelector(AttributionSettlement.DuplicateSigner.selector, bob));
        settlement.setSigners(l, 1);
        assertTrue(settlement.isSigner(signerAddrs[0]));
        assertTrue(!settlement.isSigner(alice));
        assertEq(settlement.signerSetVersion(), 1);
        assertEq(settlement.threshold(), 2);
    }

    function test_setSigners_replacesSetAndIncrementsVersion() public {
        uint256[] memory keys = new uint256[](2);
        keys[0] = 0xD00D;
        keys[1] = 0xF00D;
        address[] memory next = new address[](2);
        next[0] = vm.addr(keys[0]);
        next[1] = signerAddrs[2]; // one old signer stays

        vm.expectEmit(true, true, true, true, address(settlement));
        emit AttributionSettlement.SignerSetUpdated(2, next, 1);
        vm.prank(gov);
        settlement.setSigners(next, 1);

        assertEq(settlement.signerSetVersion(), 2);
        assertEq(settlement.threshold(), 1);
        address[] memory got = settlement.signers();
        assertEq(got.length, 2);
        assertEq(got[0], next[0]);
        assertEq(got[1], next[1]);
        assertTrue(!settlement.isSigner(signerAddrs[0]), "old signer 0 removed");
        assertTrue(!settlement.isSigner(signerAddrs[1]), "old signer 1 removed");
        assertTrue(settlement.isSigner(signerAddrs[2]), "kept signer");
        assertTrue(settlement.isSigner(next[0]), "new signer");
        assertTrue(!settlement.isSigner(vm.addr(keys[1])));

        _fundPool(1, 50);
        _endEpoch(1);
        // A removed signer is unknown under the new version.
        AttributionSettlement.PayoutBatch memory b = _batch(1, 0, _leaf(alice, 50), 50);
        assertEq(b.signerSetVersion, 2);
        bytes[] memory old = _sign(b, 1);
        _expectPostRevert(b, old, abi.encodeWithSelector(AttributionSettlement.UnknownSigner.selector, signerAddrs[0]));
        // A batch for the old version is refused even if signed by current signers.
        AttributionSettlement.PayoutBatch memory stale = _batch(1, 0, _leaf(alice, 50), 50);
        stale.signerSetVersion = 1;
        uint256[] memory newKeys = new uint256[](1);
        newKeys[0] = keys[0];
        bytes[] memory staleSigs = _signKeys(settlement.batchDigest(stale), newKeys);
        _expectPostRevert(stale, staleSigs, abi.encodeWithSelector(AttributionSettlement.WrongSignerSet.selector, 2, 1));
        // The new signer alone meets threshold 1.
        bytes[] memory sigs = _signKeys(settlement.batchDigest(b), newKeys);
        vm.prank(attributor);
        settlement.postBatch(b, sigs);
        assertEq(settlement.lastPostedEpoch(), 1);
    }

    // ================================================================ pool funding

    function test_recordPoolFunding_revertsForNonRouter() public {
        vmx.expectRevert(abi.encodeWithSelector(AttributionSettlement.NotRouter.selector, operator));
        vm.prank(operator);
        settlement.recordPoolFunding(1, 100);
        vmx.expectRevert(abi.encodeWithSelector(AttributionSettlement.NotRouter.selector, gov));
        vm.prank(gov);
        settlement.recordPoolFunding(1, 100);
    }

    function test_recordPoolFunding_accumulatesPerEpochAndEmits() public {
        vm.expectEmit(true, true, true, true, address(settlement));
        emit AttributionSettlement.PoolFunded(3, 100, 100);
        vm.prank(address(router));
        settlement.recordPoolFunding(3, 100);
        vm.expectEmit(true, true, true, true, address(settlement));
        emit AttributionSettlement.PoolFunded(3, 50, 150);
        vm.prank(address(router));
        settlement.recordPoolFunding(3, 50);
        vm.prank(address(router));
        settlement.recordPoolFunding(4, 7);
        assertEq(settlement.poolOf(3), 150);
        assertEq(settlement.poolOf(4), 7);
        assertEq(settlement.totalFunded(), 157);
        assertEq(settlement.outstanding(), 157);
    }

    function test_router_settleFundsCurrentEpochPool() public {
        uint256 expected = _expectedPool(1000, 500);
        vm.expectEmit(true, true, true, true, address(settlement));
        emit AttributionSettlement.PoolFunded(1, expected, expected);
        uint256 p1 = _serve(1000, 500);
        assertEq(p1, expected);
        vm.warp(settlement.epochEnd(2) - 1);
        uint256 p2 = _serve(77, 3);
        assertEq(settlement.poolOf(1), p1);
        assertEq(settlement.poolOf(2), p2);
        assertEq(settlement.totalFunded(), p1 + p2);
        assertEq(token.balanceOf(address(settlement)), p1 + p2);
    }

    // ================================================================ postBatch

    function test_postBatch_revertsForNonAttributor() public {
        _fundPool(1, 10);
        _endEpoch(1);
        AttributionSettlement.PayoutBatch memory b = _batch(1, 0, _leaf(alice, 10), 10);
        bytes[] memory sigs = _sign(b, 2);
        vmx.expectRevert(abi.encodeWithSelector(AttributionSettlement.NotAttributor.selector, alice));
        vm.prank(alice);
        settlement.postBatch(b, sigs);
    }

    function test_postBatch_revertsWhenEpochNotEnded() public {
        _serve(1000, 1000);
        AttributionSettlement.PayoutBatch memory b = _batch(1, 0, _leaf(alice, 1), 1);
        bytes[] memory sigs = _sign(b, 2);
        _expectPostRevert(b, sigs, abi.encodeWithSelector(AttributionSettlement.EpochNotEnded.selector, 1, 1));
        vm.warp(settlement.epochEnd(1) - 1);
        _expectPostRevert(b, sigs, abi.encodeWithSelector(AttributionSettlement.EpochNotEnded.selector, 1, 1));
        // A future epoch has not ended either.
        AttributionSettlement.PayoutBatch memory f = _batch(5, 0, _leaf(alice, 1), 1);
        bytes[] memory fsigs = _sign(f, 2);
        _expectPostRevert(f, fsigs, abi.encodeWithSelector(AttributionSettlement.EpochNotEnded.selector, 5, 1));
        vm.warp(settlement.epochEnd(1));
        vm.prank(attributor);
        settlement.postBatch(b, sigs);
        assertEq(settlement.lastPostedEpoch(), 1);
    }

    function test_postBatch_revertsForEpochZero() public {
        vm.warp(settlement.epochEnd(1));
        AttributionSettlement.PayoutBatch memory b = _batch(0, 0, bytes32(0), 0);
        bytes[] memory sigs = _sign(b, 2);
        _expectPostRevert(b, sigs, abi.encodeWithSelector(AttributionSettlement.EpochAlreadyPosted.selector, 0, 0));
    }

    function test_postBatch_revertsWhenEpochAlreadyPosted() public {
        _fundPool(1, 10);
        vm.warp(settlement.epochEnd(3));
        _post(3, _leaf(alice, 10), 10);
        vm.warp(block.timestamp + DISPUTE_WINDOW);
        // The same epoch again, even at the next nonce.
        AttributionSettlement.PayoutBatch memory again = _batch(3, 1, _leaf(alice, 10), 0);
        bytes[] memory s1 = _sign(again, 2);
        _expectPostRevert(again, s1, abi.encodeWithSelector(AttributionSettlement.EpochAlreadyPosted.selector, 3, 3));
        // An earlier epoch that was skipped.
        AttributionSettlement.PayoutBatch memory earlier = _batch(2, 0, _leaf(alice, 10), 0);
        bytes[] memory s2 = _sign(earlier, 2);
        _expectPostRevert(earlier, s2, abi.encodeWithSelector(AttributionSettlement.EpochAlreadyPosted.selector, 2, 3));
    }

    function test_postBatch_revertsWhilePreviousBatchInDispute() public {
        uint256 p1 = _serve(2000, 100);
        vm.warp(settlement.epochEnd(2) - 1 hours); // epoch 2 running, epoch 1 ended
        uint256 p2 = _serve(10, 10);
        _post(1, _leaf(alice, p1), p1);
        uint256 claimableAt = block.timestamp + DISPUTE_WINDOW;
        assertEq(_claimableAt(1), claimableAt);

        vm.warp(settlement.epochEnd(2)); // an hour later: epoch 2 ended, batch 1 still in its window
        AttributionSettlement.PayoutBatch memory b = _batch(2, 0, _leaf(bob, p2), p2);
        bytes[] memory sigs = _sign(b, 2);
        _expectPostRevert(
            b, sigs, abi.encodeWithSelector(AttributionSettlement.PreviousBatchInDispute.selector, 1, claimableAt)
        );
        vm.warp(claimableAt - 1);
        _expectPostRevert(
            b, sigs, abi.encodeWithSelector(AttributionSettlement.PreviousBatchInDispute.selector, 1, claimableAt)
        );
        vm.warp(claimableAt);
        vm.prank(attributor);
        settlement.postBatch(b, sigs);
        assertEq(settlement.lastPostedEpoch(), 2);
    }

    function test_postBatch_revertsOnWrongNonce() public {
        _fundPool(1, 10);
        _endEpoch(1);
        AttributionSettlement.PayoutBatch memory b = _batch(1, 1, _leaf(alice, 10), 10);
        bytes[] memory sigs = _sign(b, 2);
        _expectPostRevert(b, sigs, abi.encodeWithSelector(AttributionSettlement.WrongNonce.selector, 1, 0, 1));
    }

    function test_postBatch_revertsOnWrongSignerSetVersion() public {
        _fundPool(1, 10);
        _endEpoch(1);
        AttributionSettlement.PayoutBatch memory b = _batch(1, 0, _leaf(alice, 10), 10);
        b.signerSetVersion = 2;
        bytes[] memory sigs = _sign(b, 2);
        _expectPostRevert(b, sigs, abi.encodeWithSelector(AttributionSettlement.WrongSignerSet.selector, 1, 2));
        b.signerSetVersion = 0;
        sigs = _sign(b, 2);
        _expectPostRevert(b, sigs, abi.encodeWithSelector(AttributionSettlement.WrongSignerSet.selector, 1, 0));
    }

    function test_postBatch_revertsWhenTotalExceedsAvailable() public {
        uint256 p1 = _serve(1500, 700);
        _endEpoch(1);
        AttributionSettlement.PayoutBatch memory b = _batch(1, 0, _leaf(alice, p1 + 1), p1 + 1);
        bytes[] memory sigs = _sign(b, 2);
        _expectPostRevert(
            b, sigs, abi.encodeWithSelector(AttributionSettlement.TotalExceedsAvailable.selector, p1 + 1, p1)
        );
    }

    function test_postBatch_revertsOnUnknownSigner() public {
        _fundPool(1, 10);
        _endEpoch(1);
        AttributionSettlement.PayoutBatch memory b = _batch(1, 0, _leaf(alice, 10), 10);
        uint256[] memory keys = new uint256[](3);
        keys[0] = signerKeys[0];
        keys[1] = signerKeys[1];
        keys[2] = 0xBAD5EED;
        bytes[] memory sigs = _signKeys(settlement.batchDigest(b), keys);
        _expectPostRevert(
            b, sigs, abi.encodeWithSelector(AttributionSettlement.UnknownSigner.selector, vm.addr(0xBAD5EED))
        );
    }

    function test_postBatch_revertsOnUnsortedSignatures() public {
        _fundPool(1, 10);
        _endEpoch(1);
        AttributionSettlement.PayoutBatch memory b = _batch(1, 0, _leaf(alice, 10), 10);
        bytes[] memory sorted = _sign(b, 2);
        bytes[] memory reversed = new bytes[](2);
        reversed[0] = sorted[1];
        reversed[1] = sorted[0];
        _expectPostRevert(
            b,
            reversed,
            abi.encodeWithSelector(AttributionSettlement.SignersNotSorted.selector, signerAddrs[1], signerAddrs[0])
        );
    }

    function test_postBatch_revertsOnDuplicateSignature() public {
        _fundPool(1, 10);
        _endEpoch(1);
        AttributionSettlement.PayoutBatch memory b = _batch(1, 0, _leaf(alice, 10), 10);
        bytes[] memory one = _sign(b, 1);
        bytes[] memory dup = new bytes[](2);
        dup[0] = one[0];
        dup[1] = one[0];
        _expectPostRevert(
            b, dup, abi.encodeWithSelector(AttributionSettlement.SignersNotSorted.selector, signerAddrs[0], signerAddrs[0])
        );
    }

    function test_postBatch_revertsOnMalleatedSignature() public {
        _fundPool(1, 10);
        _endEpoch(1);
        AttributionSettlement.PayoutBatch memory b = _batch(1, 0, _leaf(alice, 10), 10);
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(signerKeys[0], settlement.batchDigest(b));
        bytes32 highS = bytes32(SECP256K1_N - uint256(s));
        bytes[] memory sigs = _sign(b, 2);
        sigs[0] = abi.encodePacked(r, highS, v == 27 ? uint8(28) : uint8(27));
        _expectPostRevert(b, sigs, abi.encodeWithSelector(ECDSA.ECDSAInvalidSignatureS.selector, highS));
        sigs[0] = abi.encodePacked(r, s); // 64 bytes
        _expectPostRevert(b, sigs, abi.encodeWithSelector(ECDSA.ECDSAInvalidSignatureLength.selector, 64));
    }

    function test_postBatch_revertsOnTooFewSignatures() public {
        _fundPool(1, 10);
        _endEpoch(1);
        AttributionSettlement.PayoutBatch memory b = _batch(1, 0, _leaf(alice, 10), 10);
        _expectPostRevert(b, _sign(b, 1), abi.encodeWithSelector(AttributionSettlement.NotEnoughSignatures.selector, 1, 2));
        _expectPostRevert(
            b, new bytes[](0), abi.encodeWithSelector(AttributionSettlement.NotEnoughSignatures.selector, 0, 2)
        );
        // All three also pass.
        bytes[] memory all = _sign(b, 3);
        vm.prank(attributor);
        settlement.postBatch(b, all);
        assertEq(settlement.lastPostedEpoch(), 1);
    }

    function test_postBatch_emitsBatchPostedAndRemainderWithExactValues() public {
        uint256 p1 = _serve(1000, 500) + _serve(333, 4444);
        _endEpoch(1);
        uint256 total = p1 - 7;
        bytes32[] memory l = _leaves2(alice, total - 1000, bob, 1000);
        bytes32 root = MerkleHelper.root(l);
        AttributionSettlement.PayoutBatch memory b = _batch(1, 0, root, total);
        bytes[] memory sigs = _sign(b, 2);

        vm.expectEmit(true, true, true, true, address(settlement));
        emit AttributionSettlement.BatchPosted(
            1, 0, root, total, total, b.scoreFileHash, 1, p1, uint64(block.timestamp) + DISPUTE_WINDOW, attributor
        );
        vm.expectEmit(true, true, true, true, address(settlement));
        emit AttributionSettlement.RemainderRolledOver(1, 7);
        vm.prank(attributor);
        settlement.postBatch(b, sigs);

        AttributionSettlement.Batch memory got = settlement.getBatch(1);
        assertEq(got.root, root);
        assertEq(got.scoreFileHash, b.scoreFileHash);
        assertEq(uint256(got.total), total);
        assertEq(uint256(got.cumulativeTotal), total);
        assertEq(uint256(got.carryIn), 0);
        assertEq(uint256(got.postedAt), block.timestamp);
        assertEq(uint256(got.prevEpoch), 0);
        assertEq(uint256(got.nonce), 0);
        assertTrue(!got.revoked);
        assertEq(settlement.lastPostedEpoch(), 1);
        assertEq(settlement.nextNonce(1), 1);
        assertEq(settlement.carry(), 7);
    }

    function test_postBatch_sumsSkippedEpochsPools() public {
        uint256 p1 = _serve(1000, 1000);
        vm.warp(settlement.epochEnd(1));
        uint256 p2 = _serve(50, 2000);
        vm.warp(settlement.epochEnd(2));
        uint256 p3 = _serve(999, 1);
        vm.warp(settlement.epochEnd(3));
        uint256 p4 = _serve(123, 456); // epoch 4 is running: not part of a batch for 3
        uint256 available = p1 + p2 + p3;

        AttributionSettlement.PayoutBatch memory over = _batch(3, 0, _leaf(alice, available + 1), available + 1);
        bytes[] memory overSigs = _sign(over, 2);
        _expectPostRevert(
            over,
            overSigs,
            abi.encodeWithSelector(AttributionSettlement.TotalExceedsAvailable.selector, available + 1, available)
        );

        AttributionSettlement.PayoutBatch memory b = _batch(3, 0, _leaf(alice, available), available);
        bytes[] memory sigs = _sign(b, 2);
        vm.expectEmit(true, true, true, true, address(settlement));
        emit AttributionSettlement.BatchPosted(
            3, 0, b.root, available, available, b.scoreFileHash, 1, available, uint64(block.timestamp) + DISPUTE_WINDOW, attributor
        );
        vm.expectEmit(true, true, true, true, address(settlement));
        emit AttributionSettlement.RemainderRolledOver(3, 0);
        vm.prank(attributor);
        settlement.postBatch(b, sigs);
        assertEq(settlement.carry(), 0);

        // The next batch covers epoch 4 only.
        vm.warp(settlement.epochEnd(4));
        AttributionSettlement.PayoutBatch memory n = _batch(4, 0, _leaf(alice, available + p4), p4 + 1);
        bytes[] memory nSigs = _sign(n, 2);
        _expectPostRevert(
            n, nSigs, abi.encodeWithSelector(AttributionSettlement.TotalExceedsAvailable.selector, p4 + 1, p4)
        );
        n = _post(4, _leaf(alice, available + p4), p4);
        assertEq(uint256(settlement.getBatch(4).prevEpoch), 3);
        assertEq(uint256(settlement.getBatch(4).cumulativeTotal), available + p4);
    }

    function test_postBatch_carryFromEarlierBatchIsAvailableNext() public {
        uint256 p1 = _serve(4000, 4000);
        _endEpoch(1);
        uint256 paid1 = p1 / 3;
        uint256 c1 = p1 - paid1;
        vm.expectEmit(true, true, true, true, address(settlement));
        emit AttributionSettlement.RemainderRolledOver(1, c1);
        _post(1, _leaf(alice, paid1), paid1);
        assertEq(settlement.carry(), c1);

        uint256 p2 = _serve(10, 20);
        _endEpoch(2);
        uint256 avail2 = c1 + p2;
        AttributionSettlement.PayoutBatch memory over = _batch(2, 0, _leaf(alice, paid1 + avail2 + 1), avail2 + 1);
        bytes[] memory overSigs = _sign(over, 2);
        _expectPostRevert(
            over, overSigs, abi.encodeWithSelector(AttributionSettlement.TotalExceedsAvailable.selector, avail2 + 1, avail2)
        );

        AttributionSettlement.PayoutBatch memory b = _batch(2, 0, _leaf(alice, paid1 + avail2), avail2);
        bytes[] memory sigs = _sign(b, 2);
        vm.expectEmit(true, true, true, true, address(settlement));
        emit AttributionSettlement.BatchPosted(
            2,
            0,
            b.root,
            avail2,
            paid1 + avail2,
            b.scoreFileHash,
            1,
            avail2,
            uint64(block.timestamp) + DISPUTE_WINDOW,
            attributor
        );
        vm.expectEmit(true, true, true, true, address(settlement));
        emit AttributionSettlement.RemainderRolledOver(2, 0);
        vm.prank(attributor);
        settlement.postBatch(b, sigs);
        assertEq(uint256(settlement.getBatch(2).carryIn), c1);
        assertEq(uint256(settlement.getBatch(2).cumulativeTotal), p1 + p2);
        assertEq(settlement.carry(), 0);
    }

    function test_postBatch_emptyEpochRollsCarryForward() public {
        _fundPool(1, 1000);
        _endEpoch(1);
        _post(1, _leaf(alice, 400), 400);
        _endEpoch(2); // nothing served in epoch 2
        vm.expectEmit(true, true, true, true, address(settlement));
        emit AttributionSettlement.RemainderRolledOver(2, 600);
        _post(2, _leaf(alice, 400), 0);
        assertEq(settlement.carry(), 600);
        assertEq(uint256(settlement.getBatch(2).cumulativeTotal), 400);
    }

    // ================================================================ revokeBatch

    function test_revokeBatch_revertsForNonGuardian() public {
        _fundPool(1, 10);
        _endEpoch(1);
        _post(1, _leaf(alice, 10), 10);
        vmx.expectRevert(abi.encodeWithSelector(AttributionSettlement.NotGuardian.selector, alice));
        vm.prank(alice);
        settlement.revokeBatch(1, "no");
        vmx.expectRevert(abi.encodeWithSelector(AttributionSettlement.NotGuardian.selector, attributor));
        vm.prank(attributor);
        settlement.revokeBatch(1, "no");
    }

    function test_revokeBatch_byGuardianRestoresCarryAndLastPostedEpoch() public {
        uint256 p1 = _serve(3000, 0);
        _endEpoch(1);
        uint256 paid1 = p1 - 11;
        _post(1, _leaf(alice, paid1), paid1);
        uint256 p2 = _serve(100, 100);
        _endEpoch(2);
        _post(2, _leaf(alice, paid1 + 5), 5);
        assertEq(settlement.carry(), 11 + p2 - 5);

        vm.expectEmit(true, true, true, true, address(settlement));
        emit AttributionSettlement.BatchRevoked(2, 0, guardian, "scores disputed", 11, 1);
        vm.prank(guardian);
        settlement.revokeBatch(2, "scores disputed");

        assertEq(settlement.carry(), 11);
        assertEq(settlement.lastPostedEpoch(), 1);
        assertTrue(settlement.getBatch(2).revoked);
        assertEq(settlement.nextNonce(2), 1);
        assertEq(settlement.claimableEpoch(), 1);
        // Revoked twice: no longer the newest.
        vmx.expectRevert(abi.encodeWithSelector(AttributionSettlement.NotRevocable.selector, 2));
        vm.prank(guardian);
        settlement.revokeBatch(2, "again");
        // The restored newest batch is out of its window.
        uint256 at1 = _claimableAt(1);
        vmx.expectRevert(abi.encodeWithSelector(AttributionSettlement.DisputeWindowOver.selector, 1, at1));
        vm.prank(guardian);
        settlement.revokeBatch(1, "too late");
    }

    function test_revokeBatch_byOwnerRevokesFirstBatch() public {
        uint256 p1 = _serve(500, 500);
        _endEpoch(1);
        _post(1, _leaf(alice, p1), p1);
        vm.expectEmit(true, true, true, true, address(settlement));
        emit AttributionSettlement.BatchRevoked(1, 0, gov, "governance", 0, 0);
        vm.prank(gov);
        settlement.revokeBatch(1, "governance");
        assertEq(settlement.lastPostedEpoch(), 0);
        assertEq(settlement.carry(), 0);
        vm.warp(block.timestamp + DISPUTE_WINDOW);
        assertEq(settlement.claimableEpoch(), 0);
        vm.expectRevert(AttributionSettlement.NothingClaimable.selector);
        _claimAs(alice, p1, new bytes32[](0));
    }

    function test_revokeBatch_revertsWhenNotNewest() public {
        _fundPool(1, 100);
        _endEpoch(1);
        _post(1, _leaf(alice, 10), 10);
        _endEpoch(2);
        _post(2, _leaf(alice, 20), 10);
        vmx.expectRevert(abi.encodeWithSelector(AttributionSettlement.NotRevocable.selector, 1));
        vm.prank(guardian);
        settlement.revokeBatch(1, "old");
        vmx.expectRevert(abi.encodeWithSelector(AttributionSettlement.NotRevocable.selector, 3));
        vm.prank(guardian);
        settlement.revokeBatch(3, "never posted");
        vmx.expectRevert(abi.encodeWithSelector(AttributionSettlement.NotRevocable.selector, 0));
        vm.prank(guardian);
        settlement.revokeBatch(0, "zero");
    }

    function test_revokeBatch_revertsAfterDisputeWindow() public {
        _fundPool(1, 100);
        _endEpoch(1);
        _post(1, _leaf(alice, 10), 10);
        uint256 at = _claimableAt(1);
        assertEq(at, block.timestamp + DISPUTE_WINDOW);
        vm.warp(at);
        vmx.expectRevert(abi.encodeWithSelector(AttributionSettlement.DisputeWindowOver.selector, 1, at));
        vm.prank(guardian);
        settlement.revokeBatch(1, "late");
        vm.warp(at - 1);
        vm.prank(guardian);
        settlement.revokeBatch(1, "just in time");
        assertTrue(settlement.getBatch(1).revoked);
    }

    function test_setDisputeWindow_doesNotReopenOrShortenPostedBatches() public {
        _fundPool(1, 100);
        _endEpoch(1);
        _post(1, _leaf(alice, 10), 10);
        uint256 at = _claimableAt(1);
        assertEq(at, block.timestamp + DISPUTE_WINDOW, "window fixed at posting");
        // Shortening the window does not make the batch claimable early...
        vm.prank(gov);
        settlement.setDisputeWindow(1);
        assertEq(settlement.claimableEpoch(), 0, "still in its own window");
        vm.warp(at);
        assertEq(settlement.claimableEpoch(), 1, "claimable at its own time");
        // ...and lengthening it does not make a claimable batch revocable again.
        vm.prank(gov);
        settlement.setDisputeWindow(30 days);
        assertEq(settlement.claimableEpoch(), 1, "stays claimable");
        vmx.expectRevert(abi.encodeWithSelector(AttributionSettlement.DisputeWindowOver.selector, 1, at));
        vm.prank(guardian);
        settlement.revokeBatch(1, "too late");
    }

    function test_revokeBatch_repostNeedsNextNonceAndRefusesOldNonce() public {
        uint256 p1 = _serve(2500, 1200);
        _endEpoch(1);
        AttributionSettlement.PayoutBatch memory b0 = _post(1, _leaf(alice, p1), p1);
        bytes[] memory sigs0 = _sign(b0, 2);
        vm.prank(guardian);
        settlement.revokeBatch(1, "bad");

        // The old nonce, freshly signed, is refused; so is a skipped nonce.
        _expectPostRevert(b0, sigs0, abi.encodeWithSelector(AttributionSettlement.WrongNonce.selector, 1, 1, 0));
        AttributionSettlement.PayoutBatch memory b2 = _batch(1, 2, _leaf(bob, p1), p1);
        bytes[] memory sigs2 = _sign(b2, 2);
        _expectPostRevert(b2, sigs2, abi.encodeWithSelector(AttributionSettlement.WrongNonce.selector, 1, 1, 2));
        // The old signatures do not carry over to nonce 1.
        AttributionSettlement.PayoutBatch memory replay = b0;
        replay.nonce = 1;
        _expectPostRevert(replay, sigs0, _replayError(settlement, _digest(address(settlement), block.chainid, replay), sigs0));

        // Nonce 1, properly signed, pays from the same restored availability.
        AttributionSettlement.PayoutBatch memory b1 = _batch(1, 1, _leaf(bob, p1), p1);
        bytes[] memory sigs1 = _sign(b1, 2);
        vm.expectEmit(true, true, true, true, address(settlement));
        emit AttributionSettlement.BatchPosted(
            1, 1, b1.root, p1, p1, b1.scoreFileHash, 1, p1, uint64(block.timestamp) + DISPUTE_WINDOW, attributor
        );
        vm.prank(attributor);
        settlement.postBatch(b1, sigs1);
        assertEq(settlement.nextNonce(1), 2);
        assertEq(uint256(settlement.getBatch(1).nonce), 1);
        assertTrue(!settlement.getBatch(1).revoked);

        vm.warp(_claimableAt(1));
        vmx.expectRevert(abi.encodeWithSelector(AttributionSettlement.InvalidProof.selector, alice, p1));
        _claimAs(alice, p1, new bytes32[](0));
        _claimAs(bob, p1, new bytes32[](0));
        assertEq(token.balanceOf(bob), p1);
    }

    // ================================================================ claims

    function test_claim_revertsBeforeAnyBatch() public {
        vm.expectRevert(AttributionSettlement.NothingClaimable.selector);
        _claimAs(alice, 1, new bytes32[](0));
    }

    function test_claim_opensExactlyWhenDisputeWindowEnds() public {
        uint256 p1 = _serve(700, 300);
        _endEpoch(1);
        _post(1, _leaf(alice, p1), p1);
        uint256 at = block.timestamp + DISPUTE_WINDOW;
        assertEq(settlement.claimableEpoch(), 0);
        vm.expectRevert(AttributionSettlement.NothingClaimable.selector);
        _claimAs(alice, p1, new bytes32[](0));
        vm.warp(at - 1);
        vm.expectRevert(AttributionSettlement.NothingClaimable.selector);
        _claimAs(alice, p1, new bytes32[](0));
        vm.warp(at);
        assertEq(settlement.claimableEpoch(), 1);
        _claimAs(alice, p1, new bytes32[](0));
        assertEq(token.balanceOf(alice), p1);
    }

    function test_claim_revertsOnInvalidProof() public {
        bytes32[] memory l = _leaves2(alice, 60, bob, 40);
        _fundPool(1, 100);
        _endEpoch(1);
        _post(1, MerkleHelper.root(l), 100);
        vm.warp(block.timestamp + DISPUTE_WINDOW);
        bytes32[] memory bobProof = MerkleHelper.proof(l, 1);
        vmx.expectRevert(abi.encodeWithSelector(AttributionSettlement.InvalidProof.selector, alice, 60));
        _claimAs(alice, 60, bobProof);
        vmx.expectRevert(abi.encodeWithSelector(AttributionSettlement.InvalidProof.selector, alice, 60));
        _claimAs(alice, 60, new bytes32[](0));
        bytes32[] memory aliceProof = MerkleHelper.proof(l, 0);
        vmx.expectRevert(abi.encodeWithSelector(AttributionSettlement.InvalidProof.selector, alice, 61));
        _claimAs(alice, 61, aliceProof);
        assertEq(settlement.claimed(alice), 0);
        assertEq(settlement.totalClaimed(), 0);
    }

    function test_claim_paysCumulativeMinusClaimedOnce() public {
        uint256 p1 = _serve(1000, 1000);
        _endEpoch(1);
        uint256 a = p1 / 4;
        uint256 b = p1 - a;
        bytes32[] memory l = _leaves2(alice, a, bob, b);
        _post(1, MerkleHelper.root(l), p1);
        vm.warp(block.timestamp + DISPUTE_WINDOW);

        bytes32[] memory proofA = MerkleHelper.proof(l, 0);
        vm.expectEmit(true, true, true, true, address(settlement));
        emit AttributionSettlement.Claimed(alice, 1, alice, a, a);
        _claimAs(alice, a, proofA);
        assertEq(token.balanceOf(alice), a);
        assertEq(settlement.claimed(alice), a);
        assertEq(settlement.totalClaimed(), a);
        assertEq(settlement.outstanding(), p1 - a);
        assertEq(token.balanceOf(address(settlement)), p1 - a);

        vmx.expectRevert(abi.encodeWithSelector(AttributionSettlement.NothingToClaim.selector, alice, a, a));
        _claimAs(alice, a, proofA);
        vmx.expectRevert(abi.encodeWithSelector(AttributionSettlement.NothingToClaim.selector, alice, a, a));
        vm.prank(dave);
        settlement.claimFor(alice, a, proofA);
        assertEq(token.balanceOf(alice), a);
    }

    function test_claimFor_thirdPartySendsTokensToAccount() public {
        bytes32[] memory l = _leaves2(alice, 60, bob, 40);
        _fundPool(1, 100);
        _endEpoch(1);
        _post(1, MerkleHelper.root(l), 100);
        vm.warp(block.timestamp + DISPUTE_WINDOW);
        bytes32[] memory proofB = MerkleHelper.proof(l, 1);
        vm.expectEmit(true, true, true, true, address(settlement));
        emit AttributionSettlement.Claimed(bob, 1, dave, 40, 40);
        vm.prank(dave);
        settlement.claimFor(bob, 40, proofB);
        assertEq(token.balanceOf(bob), 40);
        assertEq(token.balanceOf(dave), 0);
        assertEq(settlement.claimed(bob), 40);
        vmx.expectRevert(abi.encodeWithSelector(AttributionSettlement.NothingToClaim.selector, bob, 40, 40));
        _claimAs(bob, 40, proofB);
    }

    function test_claim_laterBatchPaysOnlyTheDifference() public {
        _fundPool(1, 100);
        _endEpoch(1);
        bytes32[] memory l1 = _leaves2(alice, 60, bob, 40);
        _post(1, MerkleHelper.root(l1), 100);
        vm.warp(block.timestamp + DISPUTE_WINDOW);
        _claimAs(alice, 60, MerkleHelper.proof(l1, 0));

        _fundPool(2, 50);
        _endEpoch(2);
        bytes32[] memory l2 = _leaves3(alice, 90, bob, 55, carol, 5);
        _post(2, MerkleHelper.root(l2), 50);
        vm.warp(block.timestamp + DISPUTE_WINDOW);

        vm.expectEmit(true, true, true, true, address(settlement));
        emit AttributionSettlement.Claimed(alice, 2, alice, 30, 90);
        _claimAs(alice, 90, MerkleHelper.proof(l2, 0));
        assertEq(token.balanceOf(alice), 90);
        // Bob never claimed batch 1: one claim collects both epochs.
        _claimAs(bob, 55, MerkleHelper.proof(l2, 1));
        assertEq(token.balanceOf(bob), 55);
        _claimAs(carol, 5, MerkleHelper.proof(l2, 2));
        assertEq(token.balanceOf(carol), 5);
        assertEq(settlement.totalClaimed(), 150);
        assertEq(settlement.outstanding(), 0);
        assertEq(token.balanceOf(address(settlement)), 0);
    }

    function test_claim_lowerCumulativeThanClaimedPaysNothing() public {
        _fundPool(1, 100);
        _endEpoch(1);
        _post(1, _leaf(alice, 100), 100);
        vm.warp(block.timestamp + DISPUTE_WINDOW);
        _claimAs(alice, 100, new bytes32[](0));
        _endEpoch(2);
        _post(2, _leaf(alice, 70), 0);
        vm.warp(block.timestamp + DISPUTE_WINDOW);
        vmx.expectRevert(abi.encodeWithSelector(AttributionSettlement.NothingToClaim.selector, alice, 70, 100));
        _claimAs(alice, 70, new bytes32[](0));
    }

    function test_claim_zeroLeafPaysNothing() public {
        bytes32[] memory l = _leaves2(alice, 0, bob, 10);
        _fundPool(1, 10);
        _endEpoch(1);
        _post(1, MerkleHelper.root(l), 10);
        vm.warp(block.timestamp + DISPUTE_WINDOW);
        vmx.expectRevert(abi.encodeWithSelector(AttributionSettlement.NothingToClaim.selector, alice, 0, 0));
        _claimAs(alice, 0, MerkleHelper.proof(l, 0));
    }

    function test_claim_revertsWhenMaliciousTreeExceedsPostedTotal() public {
        // Signers posted a tree whose leaves sum to 160 against a total of 100.
        bytes32[] memory l = _leaves2(alice, 80, bob, 80);
        _fundPool(1, 100);
        _fundPool(1, 900); // more money sits in the contract than the batch may pay
        _endEpoch(1);
        _post(1, MerkleHelper.root(l), 100);
        vm.warp(block.timestamp + DISPUTE_WINDOW);
        _claimAs(alice, 80, MerkleHelper.proof(l, 0));
        bytes32[] memory proofB = MerkleHelper.proof(l, 1);
        vmx.expectRevert(abi.encodeWithSelector(AttributionSettlement.ClaimExceedsPosted.selector, 160, 100));
        _claimAs(bob, 80, proofB);
        assertEq(settlement.claimed(bob), 0);
        assertEq(token.balanceOf(bob), 0);
        assertEq(settlement.totalClaimed(), 80);
    }

    function test_claim_usesPreviousFinalBatchWhileNewestInDispute() public {
        _fundPool(1, 100);
        _endEpoch(1);
        bytes32[] memory l1 = _leaves2(alice, 70, bob, 30);
        _post(1, MerkleHelper.root(l1), 100);
        _fundPool(2, 200);
        _endEpoch(2);
        bytes32[] memory l2 = _leaves2(alice, 250, bob, 50);
        _post(2, MerkleHelper.root(l2), 200);
        uint256 at2 = _claimableAt(2);
        assertEq(settlement.claimableEpoch(), 1);

        // Batch 2's leaf is not valid yet; batch 1's is.
        vmx.expectRevert(abi.encodeWithSelector(AttributionSettlement.InvalidProof.selector, alice, 250));
        _claimAs(alice, 250, MerkleHelper.proof(l2, 0));
        vm.expectEmit(true, true, true, true, address(settlement));
        emit AttributionSettlement.Claimed(alice, 1, alice, 70, 70);
        _claimAs(alice, 70, MerkleHelper.proof(l1, 0));

        vm.warp(at2);
        assertEq(settlement.claimableEpoch(), 2);
        vmx.expectRevert(abi.encodeWithSelector(AttributionSettlement.InvalidProof.selector, bob, 30));
        _claimAs(bob, 30, MerkleHelper.proof(l1, 1));
        vm.expectEmit(true, true, true, true, address(settlement));
        emit AttributionSettlement.Claimed(alice, 2, alice, 180, 250);
        _claimAs(alice, 250, MerkleHelper.proof(l2, 0));
        _claimAs(bob, 50, MerkleHelper.proof(l2, 1));
        assertEq(token.balanceOf(alice), 250);
        assertEq(token.balanceOf(bob), 50);
        assertEq(settlement.outstanding(), 0);
    }

    function test_claimableEpoch_tracksWindowsAndRevocation() public {
        assertEq(settlement.claimableEpoch(), 0);
        _fundPool(1, 100);
        _endEpoch(1);
        _post(1, _leaf(alice, 10), 10);
        assertEq(settlement.claimableEpoch(), 0);
        vm.warp(_claimableAt(1));
        assertEq(settlement.claimableEpoch(), 1);
        vm.warp(settlement.epochEnd(3));
        _post(3, _leaf(alice, 20), 10);
        assertEq(settlement.claimableEpoch(), 1);
        vm.prank(guardian);
        settlement.revokeBatch(3, "x");
        assertEq(settlement.claimableEpoch(), 1);
        _post(3, _leaf(alice, 30), 20);
        assertEq(settlement.claimableEpoch(), 1);
        vm.warp(_claimableAt(3));
        assertEq(settlement.claimableEpoch(), 3);
    }

    function test_outstanding_isFundedMinusClaimed() public {
        assertEq(settlement.outstanding(), 0);
        uint256 p1 = _serve(900, 900);
        uint256 p1b = _serve(5, 6000);
        assertEq(settlement.outstanding(), p1 + p1b);
        _endEpoch(1);
        _post(1, _leaf(alice, p1), p1);
        assertEq(settlement.outstanding(), p1 + p1b, "posting moves nothing");
        vm.warp(block.timestamp + DISPUTE_WINDOW);
        _claimAs(alice, p1, new bytes32[](0));
        assertEq(settlement.outstanding(), p1b);
        assertEq(settlement.outstanding(), token.balanceOf(address(settlement)));
    }

    // ================================================================ end to end

    function test_endToEnd_routerFeesPostedAndClaimedAcrossEpochs() public {
        // Epoch 1: three inferences.
        uint256 pool1 = _serve(1200, 800) + _serve(64, 4096) + _serve(1, 1);
        _endEpoch(1);
        uint256 a1 = pool1 / 3;
        uint256 b1 = pool1 / 2;
        uint256 rest1 = pool1 - a1 - b1;
        bytes32[] memory l1 = _leaves2(alice, a1, bob, b1);
        vm.expectEmit(true, true, true, true, address(settlement));
        emit AttributionSettlement.RemainderRolledOver(1, rest1);
        _post(1, MerkleHelper.root(l1), a1 + b1);

        // Epoch 2: more inferences; alice claims batch 1 once it is final.
        uint256 pool2 = _serve(3000, 10) + _serve(222, 333);
        vm.warp(_claimableAt(1));
        _claimAs(alice, a1, MerkleHelper.proof(l1, 0));
        assertEq(token.balanceOf(alice), a1);
        _endEpoch(2);

        // Batch 2 pays out the carry and the whole of epoch 2.
        uint256 total2 = rest1 + pool2;
        uint256 a2 = total2 / 5;
        uint256 c2 = 17;
        uint256 b2 = total2 - a2 - c2;
        bytes32[] memory l2 = _leaves3(alice, a1 + a2, bob, b1 + b2, carol, c2);
        vm.expectEmit(true, true, true, true, address(settlement));
        emit AttributionSettlement.RemainderRolledOver(2, 0);
        _post(2, MerkleHelper.root(l2), total2);
        assertEq(uint256(settlement.getBatch(2).cumulativeTotal), pool1 + pool2);

        // In batch 2's window, bob collects batch 1 through its proof.
        _claimAs(bob, b1, MerkleHelper.proof(l1, 1));
        vmx.expectRevert(abi.encodeWithSelector(AttributionSettlement.InvalidProof.selector, carol, c2));
        _claimAs(carol, c2, MerkleHelper.proof(l2, 2));

        vm.warp(_claimableAt(2));
        _claimAs(alice, a1 + a2, MerkleHelper.proof(l2, 0));
        vm.prank(dave);
        settlement.claimFor(bob, b1 + b2, MerkleHelper.proof(l2, 1));
        _claimAs(carol, c2, MerkleHelper.proof(l2, 2));

        assertEq(token.balanceOf(alice), a1 + a2);
        assertEq(token.balanceOf(bob), b1 + b2);
        assertEq(token.balanceOf(carol), c2);
        assertEq(token.balanceOf(dave), 0);
        assertEq(settlement.totalFunded(), pool1 + pool2);
        assertEq(settlement.totalClaimed(), pool1 + pool2);
        assertEq(settlement.outstanding(), 0);
        assertEq(token.balanceOf(address(settlement)), 0);
    }

    // ================================================================ fuzz: claims

    /// Claims every leaf once, starting at `seed % n`, half of them through a third party; checks each payment
    /// and that a second claim is refused. Returns the sum paid.
    function _claimEach(uint256 seed, address[] memory accts, uint256[] memory amts, bytes32[] memory l)
        internal
        returns (uint256 sum)
    {
        uint256 n = accts.length;
        for (uint256 k = 0; k < n; k++) {
            uint256 i = (seed % n + k) % n;
            bytes32[] memory p = MerkleHelper.proof(l, i);
            uint256 before = token.balanceOf(accts[i]);
            if ((seed >> k) & 1 == 1) {
                vm.prank(dave);
                settlement.claimFor(accts[i], amts[i], p);
            } else {
                _claimAs(accts[i], amts[i], p);
            }
            assertEq(token.balanceOf(accts[i]) - before, amts[i], "paid its amount");
            assertEq(settlement.claimed(accts[i]), amts[i]);
            sum += amts[i];
            vmx.expectRevert(
                abi.encodeWithSelector(AttributionSettlement.NothingToClaim.selector, accts[i], amts[i], amts[i])
            );
            _claimAs(accts[i], amts[i], p);
        }
    }

    function testFuzz_claims_everyAccountClaimsItsAmountExactlyOnce(uint256 seed, uint256 nRaw, uint256 extra)
        public
    {
        uint256 n = bound(nRaw, 2, 16);
        extra = bound(extra, 0, 1e24);
        address[] memory accts = new address[](n);
        uint256[] memory amts = new uint256[](n);
        bytes32[] memory l = new bytes32[](n);
        uint256 total;
        for (uint256 i = 0; i < n; i++) {
            accts[i] = address(uint160(uint256(keccak256(abi.encode(seed, "account", i)))));
            amts[i] = 1 + (uint256(keccak256(abi.encode(seed, "amount", i))) % 1e24);
            total += amts[i];
            l[i] = _leaf(accts[i], amts[i]);
        }
        _fundPool(1, total + extra);
        _endEpoch(1);
        _post(1, MerkleHelper.root(l), total);
        vm.warp(block.timestamp + DISPUTE_WINDOW);

        // A valid proof with the wrong amount, or for the wrong account, is refused.
        uint256 w = seed % n;
        bytes32[] memory pw = MerkleHelper.proof(l, w);
        vmx.expectRevert(abi.encodeWithSelector(AttributionSettlement.InvalidProof.selector, accts[w], amts[w] + 1));
        settlement.claimFor(accts[w], amts[w] + 1, pw);
        vmx.expectRevert(abi.encodeWithSelector(AttributionSettlement.InvalidProof.selector, accts[w], amts[w] - 1));
        settlement.claimFor(accts[w], amts[w] - 1, pw);
        address other = accts[(w + 1) % n];
        vmx.expectRevert(abi.encodeWithSelector(AttributionSettlement.InvalidProof.selector, other, amts[w]));
        vm.prank(other);
        settlement.claim(amts[w], pw);

        uint256 sum = _claimEach(seed, accts, amts, l);
        assertEq(sum, total);
        assertEq(settlement.totalClaimed(), total);
        assertEq(token.balanceOf(dave), 0);
        assertEq(settlement.outstanding(), extra);
        assertEq(token.balanceOf(address(settlement)), extra);
    }

    // ================================================================ fuzz: signatures

    function testFuzz_postBatch_rejectsNonSignerKey(uint256 key, bytes32 root, uint256 total) public {
        key = bound(key, 1, SECP256K1_N - 1);
        address intruder = vm.addr(key);
        vm.assume(!settlement.isSigner(intruder));
        total = bound(total, 0, 1e25);
        _fundPool(1, total);
        _endEpoch(1);
        AttributionSettlement.PayoutBatch memory b = _batch(1, 0, root, total);
        uint256[] memory keys = new uint256[](3);
        keys[0] = signerKeys[0];
        keys[1] = signerKeys[1];
        keys[2] = key;
        bytes[] memory sigs = _signKeys(settlement.batchDigest(b), keys);
        _expectPostRevert(b, sigs, abi.encodeWithSelector(AttributionSettlement.UnknownSigner.selector, intruder));
        // Alone, too.
        uint256[] memory only = new uint256[](1);
        only[0] = key;
        bytes[] memory alone = _signKeys(settlement.batchDigest(b), only);
        _expectPostRevert(b, alone, abi.encodeWithSelector(AttributionSettlement.UnknownSigner.selector, intruder));
    }

    /// `n` distinct signer keys derived from `seed`.
    function _randomKeys(uint256 seed, uint256 n) internal returns (uint256[] memory keys, address[] memory addrs) {
        keys = new uint256[](n);
        addrs = new address[](n);
        for (uint256 i = 0; i < n; i++) {
            keys[i] = bound(uint256(keccak256(abi.encode(seed, "key", i))), 1, SECP256K1_N - 1);
            addrs[i] = vm.addr(keys[i]);
            for (uint256 j = 0; j < i; j++) {
                vm.assume(addrs[j] != addrs[i]);
            }
        }
    }

    /// `count` distinct keys of `keys`, starting at `seed % n` and wrapping around.
    function _pick(uint256[] memory keys, uint256 seed, uint256 count) internal pure returns (uint256[] memory out) {
        uint256 n = keys.length;
        out = new uint256[](count);
        for (uint256 i = 0; i < count; i++) {
            out[i] = keys[(seed % n + i) % n];
        }
    }

    function testFuzz_postBatch_rejectsFewerThanThreshold(uint256 seed, uint256 n, uint256 t, uint256 k) public {
        n = bound(n, 1, 7);
        t = bound(t, 1, n);
        k = bound(k, 0, t - 1);
        uint256[] memory keys;
        {
            address[] memory addrs;
            (keys, addrs) = _randomKeys(seed, n);
            vm.prank(gov);
            settlement.setSigners(addrs, t);
        }
        _fundPool(1, 1000);
        _endEpoch(1);
        AttributionSettlement.PayoutBatch memory b = _batch(1, 0, keccak256(abi.encode(seed)), 1000);

        bytes[] memory sigs = _signKeys(settlement.batchDigest(b), _pick(keys, seed, k));
        _expectPostRevert(b, sigs, abi.encodeWithSelector(AttributionSettlement.NotEnoughSignatures.selector, k, t));

        sigs = _signKeys(settlement.batchDigest(b), _pick(keys, seed, t));
        vm.prank(attributor);
        settlement.postBatch(b, sigs);
        assertEq(settlement.lastPostedEpoch(), 1);
    }

    function testFuzz_postBatch_rejectsReplayOnAnotherEpoch(uint256 otherEpoch, bytes32 root, uint256 total) public {
        total = bound(total, 0, 1e25);
        otherEpoch = bound(otherEpoch, 2, 9);
        _fundPool(1, total);
        vm.warp(settlement.epochEnd(9));
        AttributionSettlement.PayoutBatch memory b = _batch(1, 0, root, total);
        bytes[] memory sigs = _sign(b, 2);
        AttributionSettlement.PayoutBatch memory moved = b;
        moved.epoch = otherEpoch;
        _expectPostRevert(moved, sigs, _replayError(settlement, _digest(address(settlement), block.chainid, moved), sigs));
        // The signatures are good for the epoch they were made for.
        moved.epoch = 1;
        vm.prank(attributor);
        settlement.postBatch(moved, sigs);
        assertEq(settlement.lastPostedEpoch(), 1);
    }

    function testFuzz_postBatch_rejectsReplayOnAnotherNonce(bytes32 root, uint256 total) public {
        total = bound(total, 0, 1e25);
        _fundPool(1, total);
        _endEpoch(1);
        AttributionSettlement.PayoutBatch memory b = _batch(1, 0, root, total);
        bytes[] memory sigs = _sign(b, 2);
        vm.prank(attributor);
        settlement.postBatch(b, sigs);
        vm.prank(guardian);
        settlement.revokeBatch(1, "replay test");

        _expectPostRevert(b, sigs, abi.encodeWithSelector(AttributionSettlement.WrongNonce.selector, 1, 1, 0));
        b.nonce = 1;
        _expectPostRevert(b, sigs, _replayError(settlement, _digest(address(settlement), block.chainid, b), sigs));
        bytes[] memory fresh = _sign(b, 2);
        vm.prank(attributor);
        settlement.postBatch(b, fresh);
        assertEq(settlement.nextNonce(1), 2);
    }

    function testFuzz_postBatch_rejectsReplayOnAnotherDeployment(bytes32 root, uint256 total) public {
        total = bound(total, 0, 1e25);
        AttributionSettlement other =
            new AttributionSettlement(IERC20(address(token)), gov, EPOCH_LENGTH, DISPUTE_WINDOW);
        assertTrue(address(other) != address(settlement));
        vmx.startPrank(gov);
        other.setRouter(address(router));
        other.setAttributor(attributor, true);
        other.setSigners(signerAddrs, 2);
        vmx.stopPrank();
        _fundPool(1, total);
        _fund(address(other), total);
        vm.prank(address(router));
        other.recordPoolFunding(1, total);
        _endEpoch(1);
        assertEq(other.currentEpoch(), 2);

        AttributionSettlement.PayoutBatch memory b = _batch(1, 0, root, total);
        assertEq(other.signerSetVersion(), b.signerSetVersion);
        bytes[] memory sigs = _sign(b, 2); // made for `settlement`
        bytes32 otherDigest = other.batchDigest(b);
        assertEq(otherDigest, _digest(address(other), block.chainid, b));
        assertTrue(otherDigest != settlement.batchDigest(b));

        vmx.expectRevert(_replayError(other, otherDigest, sigs));
        vm.prank(attributor);
        other.postBatch(b, sigs);

        bytes[] memory own = _signDigest(otherDigest, 2);
        vm.prank(attributor);
        other.postBatch(b, own);
        assertEq(other.lastPostedEpoch(), 1);
        // And the other deployment's signatures do not work here.
        _expectPostRevert(b, own, _replayError(settlement, settlement.batchDigest(b), own));
    }

    function testFuzz_postBatch_rejectsReplayUnderAnotherChainId(uint256 chainId, bytes32 root, uint256 total) public {
        uint256 home = block.chainid;
        chainId = bound(chainId, 1, type(uint64).max);
        vm.assume(chainId != home);
        total = bound(total, 0, 1e25);
        _fundPool(1, total);
        _endEpoch(1);
        AttributionSettlement.PayoutBatch memory b = _batch(1, 0, root, total);
        bytes[] memory sigs = _sign(b, 2);
        bytes32 homeDigest = settlement.batchDigest(b);

        vm.chainId(chainId);
        bytes32 forkDigest = settlement.batchDigest(b);
        assertEq(forkDigest, _digest(address(settlement), chainId, b));
        assertTrue(forkDigest != homeDigest);
        _expectPostRevert(b, sigs, _replayError(settlement, forkDigest, sigs));

        vm.chainId(home);
        assertEq(settlement.batchDigest(b), homeDigest);
        vm.prank(attributor);
        settlement.postBatch(b, sigs);
        assertEq(settlement.lastPostedEpoch(), 1);
    }

    // ================================================================ fuzz: EIP-712 digest

    function testFuzz_batchDigest_matchesIndependentEip712(
        uint256 epoch,
        uint256 nonce,
        bytes32 root,
        uint256 total,
        bytes32 scoreFileHash,
        uint256 version,
        uint256 chainId
    ) public {
        chainId = bound(chainId, 1, type(uint64).max);
        vm.chainId(chainId);
        AttributionSettlement.PayoutBatch memory b = AttributionSettlement.PayoutBatch({
            epoch: epoch,
            nonce: nonce,
            root: root,
            total: total,
            scoreFileHash: scoreFileHash,
            signerSetVersion: version
        });
        assertEq(settlement.batchDigest(b), _digest(address(settlement), chainId, b));
        assertEq(settlement.PAYOUT_BATCH_TYPEHASH(), BATCH_TYPEHASH);
        (, string memory name, string memory ver, uint256 cid, address verifying,,) = settlement.eip712Domain();
        assertEq(name, "TributaryAttribution");
        assertEq(ver, "1");
        assertEq(cid, chainId);
        assertEq(verifying, address(settlement));
    }

    function testFuzz_postBatch_acceptsSignaturesOverIndependentDigest(bytes32 root, uint256 total, bytes32 scores)
        public
    {
        total = bound(total, 0, 1e25);
        _fundPool(1, total);
        _endEpoch(1);
        AttributionSettlement.PayoutBatch memory b = _batch(1, 0, root, total);
        b.scoreFileHash = scores;
        bytes[] memory sigs = _signDigest(_digest(address(settlement), block.chainid, b), 2);
        vm.prank(attributor);
        settlement.postBatch(b, sigs);
        assertEq(settlement.getBatch(1).root, root);
        assertEq(settlement.getBatch(1).scoreFileHash, scores);
        assertEq(uint256(settlement.getBatch(1).total), total);
    }
}
