// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Fixture} from "./utils/Fixture.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {DatanetRegistry} from "../src/DatanetRegistry.sol";

contract DatanetRegistryTest is Fixture {
    address internal alice = address(0xA11CE0); // datanet owner
    address internal bob = address(0xB0B0); // contributor
    address internal carol = address(0xCA201); // curator
    address internal stranger = address(0x5757);

    uint128 internal constant REQUIRED = 10 ether;
    bytes32 internal constant CONTENT = keccak256("content");

    // ----------------------------------------------------------------- helpers

    function _create(address owner_, uint128 required, bool permissioned) internal returns (uint256 id) {
        vm.prank(owner_);
        id = datanets.createDatanet("ipfs://meta", "text", "CC-BY-4.0", required, permissioned);
    }

    function _fundApprove(address who, uint256 amount) internal {
        _fund(who, amount);
        vm.prank(who);
        token.approve(address(datanets), amount);
    }

    function _contribute(address who, uint256 datanetId, uint128 stake) internal returns (uint256 cid) {
        _fundApprove(who, stake);
        vm.prank(who);
        cid = datanets.contribute(datanetId, CONTENT, 1234, "file://c", stake);
    }

    /// A datanet owned by alice with carol as curator and one pending contribution of bob staking 25 OPEN.
    function _setupPending() internal returns (uint256 d, uint256 cid) {
        d = _create(alice, REQUIRED, false);
        vm.prank(alice);
        datanets.setCurator(d, carol, true);
        cid = _contribute(bob, d, 25 ether);
    }

    function _review(uint256 cid, bool accepted) internal {
        vm.prank(alice);
        datanets.review(cid, accepted, 8000);
    }

    // ------------------------------------------------------------- constructor

    function test_constructor_setsParametersAndEmits() public {
        vm.expectEmit(true, true, true, true);
        emit DatanetRegistry.TreasurySet(treasury);
        vm.expectEmit(true, true, true, true);
        emit DatanetRegistry.StakeCooldownSet(77);
        DatanetRegistry r = new DatanetRegistry(IERC20(address(token)), gov, treasury, 77);
        assertEq(address(r.token()), address(token));
        assertEq(r.owner(), gov);
        assertEq(r.treasury(), treasury);
        assertEq(uint256(r.stakeCooldown()), 77);
        assertEq(r.creationFee(), 0);
        assertEq(r.datanetCount(), 0);
        assertEq(r.contributionCount(), 0);
        assertEq(uint256(r.MAX_QUALITY()), 10_000);
    }

    function test_constructor_revertsOnZeroTreasury() public {
        vm.expectRevert(abi.encodeWithSelector(DatanetRegistry.ZeroAddress.selector));
        new DatanetRegistry(IERC20(address(token)), gov, address(0), 77);
    }

    // ---------------------------------------------------------- createDatanet

    function test_createDatanet_withoutFee_emitsAndStores() public {
        uint256 treasuryBefore = token.balanceOf(treasury);
        vm.expectEmit(true, true, true, true, address(datanets));
        emit DatanetRegistry.DatanetCreated(1, alice, "ipfs://meta", "text", "CC-BY-4.0", REQUIRED, true, 0);
        uint256 id = _create(alice, REQUIRED, true);
        assertEq(id, 1);
        assertEq(datanets.datanetCount(), 1);
        DatanetRegistry.Datanet memory d = datanets.getDatanet(1);
        assertEq(d.owner, alice);
        assertEq(uint256(d.versionCount), 0);
        assertTrue(d.permissioned);
        assertEq(uint256(d.requiredStake), REQUIRED);
        assertEq(token.balanceOf(treasury), treasuryBefore, "no fee moved");

        vm.expectEmit(true, true, true, true, address(datanets));
        emit DatanetRegistry.DatanetCreated(2, bob, "ipfs://meta", "text", "CC-BY-4.0", 0, false, 0);
        assertEq(_create(bob, 0, false), 2, "ids are sequential");
    }

    function test_createDatanet_withFee_paysTreasury() public {
        vm.prank(gov);
        datanets.setCreationFee(5 ether);
        _fundApprove(alice, 7 ether);
        uint256 treasuryBefore = token.balanceOf(treasury);

        vm.expectEmit(true, true, true, true, address(token));
        emit IERC20.Transfer(alice, treasury, 5 ether);
        vm.expectEmit(true, true, true, true, address(datanets));
        emit DatanetRegistry.DatanetCreated(1, alice, "ipfs://meta", "text", "CC-BY-4.0", REQUIRED, false, 5 ether);
        _create(alice, REQUIRED, false);

        assertEq(token.balanceOf(treasury) - treasuryBefore, 5 ether, "treasury got the fee");
        assertEq(token.balanceOf(alice), 2 ether, "creator paid exactly the fee");
        assertEq(token.balanceOf(address(datanets)), 0, "registry keeps nothing");
    }

    function test_createDatanet_withFee_revertsWithoutAllowance() public {
        vm.prank(gov);
        datanets.setCreationFee(5 ether);
        _fund(alice, 5 ether);
        vm.prank(alice);
        vm.expectRevert(
            abi.encodeWithSelector(IERC20Errors.ERC20InsufficientAllowance.selector, address(datanets), 0, 5 ether)
        );
        datanets.createDatanet("ipfs://meta", "text", "CC-BY-4.0", 0, false);
        assertEq(datanets.datanetCount(), 0);
    }

    // -------------------------------------------------------- transferDatanet

    function test_transferDatanet_movesOwnership() public {
        uint256 d = _create(alice, 0, true);
        vm.expectEmit(true, true, true, true, address(datanets));
        emit DatanetRegistry.DatanetOwnershipTransferred(d, alice, bob);
        vm.prank(alice);
        datanets.transferDatanet(d, bob);
        assertEq(datanets.getDatanet(d).owner, bob);
        assertTrue(datanets.hasAccess(d, bob), "new owner has access");
        assertFalse(datanets.hasAccess(d, alice));

        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(DatanetRegistry.NotDatanetOwner.selector, d, alice));
        datanets.setCurator(d, carol, true);
    }

    function test_transferDatanet_revertsForNonOwner() public {
        uint256 d = _create(alice, 0, false);
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(DatanetRegistry.NotDatanetOwner.selector, d, stranger));
        datanets.transferDatanet(d, stranger);
    }

    function test_transferDatanet_revertsOnZeroAddress() public {
        uint256 d = _create(alice, 0, false);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(DatanetRegistry.ZeroAddress.selector));
        datanets.transferDatanet(d, address(0));
    }

    function test_transferDatanet_revertsForUnknownDatanet() public {
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(DatanetRegistry.DatanetNotFound.selector, 9));
        datanets.transferDatanet(9, bob);
    }

    // ------------------------------------------------------------- setCurator

    function test_setCurator_enablesAndDisables() public {
        uint256 d = _create(alice, 0, false);
        vm.expectEmit(true, true, true, true, address(datanets));
        emit DatanetRegistry.CuratorSet(d, carol, true);
        vm.prank(alice);
        datanets.setCurator(d, carol, true);
        assertTrue(datanets.isCurator(d, carol));

        vm.expectEmit(true, true, true, true, address(datanets));
        emit DatanetRegistry.CuratorSet(d, carol, false);
        vm.prank(alice);
        datanets.setCurator(d, carol, false);
        assertFalse(datanets.isCurator(d, carol));
    }

    function test_setCurator_revertsForNonOwner() public {
        uint256 d = _create(alice, 0, false);
        vm.prank(carol);
        vm.expectRevert(abi.encodeWithSelector(DatanetRegistry.NotDatanetOwner.selector, d, carol));
        datanets.setCurator(d, carol, true);
    }

    function test_setCurator_revertsForUnknownDatanet() public {
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(DatanetRegistry.DatanetNotFound.selector, 3));
        datanets.setCurator(3, carol, true);
    }

    // ------------------------------------------------------ setAccess/hasAccess

    function test_hasAccess_openDatanetAllowsAnyone() public {
        uint256 d = _create(alice, 0, false);
        assertTrue(datanets.hasAccess(d, alice));
        assertTrue(datanets.hasAccess(d, stranger));
        assertTrue(datanets.hasAccess(d, address(0)));
    }

    function test_setAccess_grantsAndRevokesOnPermissionedDatanet() public {
        uint256 d = _create(alice, 0, true);
        assertTrue(datanets.hasAccess(d, alice), "owner always has access");
        assertFalse(datanets.hasAccess(d, bob), "not granted yet");

        vm.expectEmit(true, true, true, true, address(datanets));
        emit DatanetRegistry.AccessChanged(d, bob, true);
        vm.prank(alice);
        datanets.setAccess(d, bob, true);
        assertTrue(datanets.hasAccess(d, bob));
        assertFalse(datanets.hasAccess(d, stranger), "grant is per account");

        vm.expectEmit(true, true, true, true, address(datanets));
        emit DatanetRegistry.AccessChanged(d, bob, false);
        vm.prank(alice);
        datanets.setAccess(d, bob, false);
        assertFalse(datanets.hasAccess(d, bob));
    }

    function test_setAccess_grantIsPerDatanet() public {
        uint256 d1 = _create(alice, 0, true);
        uint256 d2 = _create(alice, 0, true);
        vm.prank(alice);
        datanets.setAccess(d1, bob, true);
        assertTrue(datanets.hasAccess(d1, bob));
        assertFalse(datanets.hasAccess(d2, bob));
    }

    function test_setAccess_revertsForNonOwner() public {
        uint256 d = _create(alice, 0, true);
        vm.prank(bob);
        vm.expectRevert(abi.encodeWithSelector(DatanetRegistry.NotDatanetOwner.selector, d, bob));
        datanets.setAccess(d, bob, true);
        assertFalse(datanets.hasAccess(d, bob));
    }

    function test_setAccess_revertsForUnknownDatanet() public {
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(DatanetRegistry.DatanetNotFound.selector, 4));
        datanets.setAccess(4, bob, true);
    }

    function test_hasAccess_revertsForUnknownDatanet() public {
        vm.expectRevert(abi.encodeWithSelector(DatanetRegistry.DatanetNotFound.selector, 1));
        datanets.hasAccess(1, alice);
    }

    // --------------------------------------------------------- publishVersion

    function test_publishVersion_numbersVersionsFromOne() public {
        uint256 d = _create(alice, 0, false);
        vm.expectEmit(true, true, true, true, address(datanets));
        emit DatanetRegistry.DatanetVersionPublished(d, 1, keccak256("r1"), 3, "file://v1");
        vm.prank(alice);
        assertEq(datanets.publishVersion(d, keccak256("r1"), 3, "file://v1"), 1);

        vm.expectEmit(true, true, true, true, address(datanets));
        emit DatanetRegistry.DatanetVersionPublished(d, 2, keccak256("r2"), 5, "file://v2");
        vm.prank(alice);
        assertEq(datanets.publishVersion(d, keccak256("r2"), 5, "file://v2"), 2);

        assertEq(datanets.versionRoot(d, 1), keccak256("r1"));
        assertEq(datanets.versionRoot(d, 2), keccak256("r2"));
        assertEq(datanets.versionRoot(d, 3), bytes32(0));
        assertEq(uint256(datanets.getDatanet(d).versionCount), 2);
    }

    function test_publishVersion_revertsOnZeroRoot() public {
        uint256 d = _create(alice, 0, false);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(DatanetRegistry.EmptyContentHash.selector));
        datanets.publishVersion(d, bytes32(0), 1, "file://v1");
        assertEq(uint256(datanets.getDatanet(d).versionCount), 0);
    }

    function test_publishVersion_revertsForCurator() public {
        uint256 d = _create(alice, 0, false);
        vm.prank(alice);
        datanets.setCurator(d, carol, true);
        vm.prank(carol);
        vm.expectRevert(abi.encodeWithSelector(DatanetRegistry.NotDatanetOwner.selector, d, carol));
        datanets.publishVersion(d, keccak256("r1"), 1, "file://v1");
    }

    function test_publishVersion_revertsForUnknownDatanet() public {
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(DatanetRegistry.DatanetNotFound.selector, 2));
        datanets.publishVersion(2, keccak256("r1"), 1, "file://v1");
    }

    // ------------------------------------------------------------- contribute

    function test_contribute_locksStakeAndEmits() public {
        uint256 d = _create(alice, REQUIRED, false);
        _fundApprove(bob, 30 ether);
        vm.expectEmit(true, true, true, true, address(token));
        emit IERC20.Transfer(bob, address(datanets), 12 ether);
        vm.expectEmit(true, true, true, true, address(datanets));
        emit DatanetRegistry.ContributionSubmitted(1, d, bob, CONTENT, 1234, "file://c", 12 ether);
        vm.prank(bob);
        uint256 cid = datanets.contribute(d, CONTENT, 1234, "file://c", 12 ether);

        assertEq(cid, 1);
        assertEq(datanets.contributionCount(), 1);
        assertEq(token.balanceOf(bob), 18 ether, "contributor paid the stake");
        assertEq(token.balanceOf(address(datanets)), 12 ether, "registry holds the stake");
        DatanetRegistry.Contribution memory c = datanets.getContribution(cid);
        assertEq(c.contributor, bob);
        assertEq(uint256(c.datanetId), d);
        assertEq(uint256(c.status), uint256(DatanetRegistry.Status.Pending));
        assertEq(uint256(c.quality), 0);
        assertEq(uint256(c.stake), 12 ether);
        assertEq(uint256(c.reviewedAt), 0);

        vm.prank(bob);
        assertEq(datanets.contribute(d, CONTENT, 1, "file://c2", 10 ether), 2, "ids are sequential");
        assertEq(token.balanceOf(address(datanets)), 22 ether);
    }

    function test_contribute_acceptsExactlyRequiredStake() public {
        uint256 d = _create(alice, REQUIRED, false);
        uint256 cid = _contribute(bob, d, REQUIRED);
        assertEq(uint256(datanets.getContribution(cid).stake), REQUIRED);
        assertEq(token.balanceOf(address(datanets)), REQUIRED);
    }

    function test_contribute_zeroStakeOnFreeDatanetMovesNothing() public {
        uint256 d = _create(alice, 0, false);
        vm.expectEmit(true, true, true, true, address(datanets));
        emit DatanetRegistry.ContributionSubmitted(1, d, stranger, CONTENT, 7, "u", 0);
        vm.prank(stranger); // no balance, no allowance
        datanets.contribute(d, CONTENT, 7, "u", 0);
        assertEq(token.balanceOf(address(datanets)), 0);
    }

    function test_contribute_revertsWhenStakeBelowRequired() public {
        uint256 d = _create(alice, REQUIRED, false);
        _fundApprove(bob, REQUIRED);
        vm.prank(bob);
        vm.expectRevert(abi.encodeWithSelector(DatanetRegistry.StakeTooLow.selector, REQUIRED - 1, REQUIRED));
        datanets.contribute(d, CONTENT, 1, "u", REQUIRED - 1);
        assertEq(datanets.contributionCount(), 0);
        assertEq(token.balanceOf(bob), REQUIRED);
    }

    function test_contribute_revertsOnZeroContentHash() public {
        uint256 d = _create(alice, 0, false);
        vm.prank(bob);
        vm.expectRevert(abi.encodeWithSelector(DatanetRegistry.EmptyContentHash.selector));
        datanets.contribute(d, bytes32(0), 1, "u", 0);
    }

    function test_contribute_revertsForUnknownDatanet() public {
        vm.prank(bob);
        vm.expectRevert(abi.encodeWithSelector(DatanetRegistry.DatanetNotFound.selector, 5));
        datanets.contribute(5, CONTENT, 1, "u", 0);
    }

    function test_contribute_revertsWithoutAllowance() public {
        uint256 d = _create(alice, REQUIRED, false);
        _fund(bob, REQUIRED);
        vm.prank(bob);
        vm.expectRevert(
            abi.encodeWithSelector(IERC20Errors.ERC20InsufficientAllowance.selector, address(datanets), 0, REQUIRED)
        );
        datanets.contribute(d, CONTENT, 1, "u", REQUIRED);
    }

    function testFuzz_contribute_locksExactlyTheStake(uint128 required, uint128 stake) public {
        required = uint128(bound(required, 0, 1_000_000 ether));
        stake = uint128(bound(stake, required, 100_000_000 ether));
        uint256 d = _create(alice, required, false);
        _fundApprove(bob, stake);
        uint256 regBefore = token.balanceOf(address(datanets));
        uint256 bobBefore = token.balanceOf(bob);
        vm.prank(bob);
        uint256 cid = datanets.contribute(d, CONTENT, 1, "u", stake);
        assertEq(token.balanceOf(address(datanets)) - regBefore, stake, "registry delta == stake");
        assertEq(bobBefore - token.balanceOf(bob), stake, "contributor delta == stake");
        assertEq(uint256(datanets.getContribution(cid).stake), stake);
    }

    // ----------------------------------------------------------------- review

    function test_review_byOwnerAccepts() public {
        (uint256 d, uint256 cid) = _setupPending();
        vm.warp(1000);
        vm.expectEmit(true, true, true, true, address(datanets));
        emit DatanetRegistry.ContributionReviewed(cid, d, alice, true, 9500, 1000);
        vm.prank(alice);
        datanets.review(cid, true, 9500);
        DatanetRegistry.Contribution memory c = datanets.getContribution(cid);
        assertEq(uint256(c.status), uint256(DatanetRegistry.Status.Accepted));
        assertEq(uint256(c.quality), 9500);
        assertEq(uint256(c.reviewedAt), 1000);
        assertEq(uint256(c.stake), 25 ether, "review does not touch stake");
    }

    function test_review_byCuratorRejectsWithMaxQuality() public {
        (uint256 d, uint256 cid) = _setupPending();
        vm.warp(2000);
        vm.expectEmit(true, true, true, true, address(datanets));
        emit DatanetRegistry.ContributionReviewed(cid, d, carol, false, 10_000, 2000);
        vm.prank(carol);
        datanets.review(cid, false, 10_000);
        DatanetRegistry.Contribution memory c = datanets.getContribution(cid);
        assertEq(uint256(c.status), uint256(DatanetRegistry.Status.Rejected));
        assertEq(uint256(c.quality), 10_000);
    }

    function test_review_revertsForNonCurator() public {
        (uint256 d, uint256 cid) = _setupPending();
        vm.prank(bob); // the contributor cannot review their own work
        vm.expectRevert(abi.encodeWithSelector(DatanetRegistry.NotCurator.selector, d, bob));
        datanets.review(cid, true, 5000);
        vm.prank(gov); // governance does not review
        vm.expectRevert(abi.encodeWithSelector(DatanetRegistry.NotCurator.selector, d, gov));
        datanets.review(cid, true, 5000);
    }

    function test_review_revertsForRemovedCurator() public {
        (uint256 d, uint256 cid) = _setupPending();
        vm.prank(alice);
        datanets.setCurator(d, carol, false);
        vm.prank(carol);
        vm.expectRevert(abi.encodeWithSelector(DatanetRegistry.NotCurator.selector, d, carol));
        datanets.review(cid, true, 5000);
    }

    function test_review_revertsWhenAlreadyReviewed() public {
        (, uint256 cid) = _setupPending();
        _review(cid, true);
        vm.prank(carol);
        vm.expectRevert(
            abi.encodeWithSelector(DatanetRegistry.AlreadyReviewed.selector, cid, DatanetRegistry.Status.Accepted)
        );
        datanets.review(cid, false, 1);

        uint256 cid2 = _contribute(bob, 1, REQUIRED);
        _review(cid2, false);
        vm.prank(alice);
        vm.expectRevert(
            abi.encodeWithSelector(DatanetRegistry.AlreadyReviewed.selector, cid2, DatanetRegistry.Status.Rejected)
        );
        datanets.review(cid2, true, 1);
    }

    function test_review_revertsWhenQualityAboveMax() public {
        (, uint256 cid) = _setupPending();
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(DatanetRegistry.QualityOutOfRange.selector, uint16(10_001)));
        datanets.review(cid, true, 10_001);
        assertEq(uint256(datanets.getContribution(cid).status), uint256(DatanetRegistry.Status.Pending));
    }

    function test_review_revertsForUnknownContribution() public {
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(DatanetRegistry.ContributionNotFound.selector, 1));
        datanets.review(1, true, 1);
    }

    // ------------------------------------------------------------------ slash

    function _assertSlash(address by, uint128 amount, uint128 remaining) internal {
        (uint256 d, uint256 cid) = _setupPending();
        uint256 treasuryBefore = token.balanceOf(treasury);
        vm.expectEmit(true, true, true, true, address(token));
        emit IERC20.Transfer(address(datanets), treasury, amount);
        vm.expectEmit(true, true, true, true, address(datanets));
        emit DatanetRegistry.ContributionSlashed(cid, d, by, amount, remaining, treasury, "spam");
        vm.prank(by);
        datanets.slash(cid, amount, "spam");
        assertEq(token.balanceOf(treasury) - treasuryBefore, amount, "slashed stake went to treasury");
        assertEq(token.balanceOf(address(datanets)), remaining, "registry keeps the rest");
        assertEq(uint256(datanets.getContribution(cid).stake), remaining);
    }

    function test_slash_byGovernance() public {
        _assertSlash(gov, 10 ether, 15 ether);
    }

    function test_slash_byDatanetOwner() public {
        _assertSlash(alice, 25 ether, 0);
    }

    function test_slash_byCurator() public {
        _assertSlash(carol, 1, 25 ether - 1);
    }

    function test_slash_revertsForStranger() public {
        (uint256 d, uint256 cid) = _setupPending();
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(DatanetRegistry.NotCurator.selector, d, stranger));
        datanets.slash(cid, 1, "x");
        vm.prank(bob);
        vm.expectRevert(abi.encodeWithSelector(DatanetRegistry.NotCurator.selector, d, bob));
        datanets.slash(cid, 1, "x");
    }

    function test_slash_revertsWhenAmountExceedsStake() public {
        (, uint256 cid) = _setupPending();
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(DatanetRegistry.SlashTooLarge.selector, cid, 25 ether + 1, 25 ether));
        datanets.slash(cid, 25 ether + 1, "x");

        vm.prank(alice);
        datanets.slash(cid, 20 ether, "x");
        vm.prank(gov);
        vm.expectRevert(abi.encodeWithSelector(DatanetRegistry.SlashTooLarge.selector, cid, 6 ether, 5 ether));
        datanets.slash(cid, 6 ether, "x");
    }

    function test_slash_revertsForUnknownContribution() public {
        vm.prank(gov);
        vm.expectRevert(abi.encodeWithSelector(DatanetRegistry.ContributionNotFound.selector, 7));
        datanets.slash(7, 1, "x");
    }

    function test_slash_paysCurrentTreasury() public {
        (uint256 d, uint256 cid) = _setupPending();
        address newTreasury = address(0x7E2);
        vm.prank(gov);
        datanets.setTreasury(newTreasury);
        vm.expectEmit(true, true, true, true, address(datanets));
        emit DatanetRegistry.ContributionSlashed(cid, d, gov, 4 ether, 21 ether, newTreasury, "dup");
        vm.prank(gov);
        datanets.slash(cid, 4 ether, "dup");
        assertEq(token.balanceOf(newTreasury), 4 ether);
    }

    // ---------------------------------------------------------- withdrawStake

    function test_withdrawStake_revertsWhilePending() public {
        (, uint256 cid) = _setupPending();
        vm.warp(block.timestamp + 365 days);
        vm.prank(bob);
        vm.expectRevert(abi.encodeWithSelector(DatanetRegistry.NotReviewed.selector, cid));
        datanets.withdrawStake(cid);
    }

    function test_withdrawStake_enforcesCooldownAtBoundary() public {
        (, uint256 cid) = _setupPending();
        vm.warp(10_000);
        _review(cid, true);
        uint256 unlocksAt = 10_000 + STAKE_COOLDOWN;

        vm.warp(unlocksAt - 1);
        vm.prank(bob);
        vm.expectRevert(abi.encodeWithSelector(DatanetRegistry.StakeLocked.selector, cid, unlocksAt));
        datanets.withdrawStake(cid);

        vm.warp(unlocksAt);
        vm.expectEmit(true, true, true, true, address(token));
        emit IERC20.Transfer(address(datanets), bob, 25 ether);
        vm.expectEmit(true, true, true, true, address(datanets));
        emit DatanetRegistry.StakeWithdrawn(cid, bob, 25 ether);
        vm.prank(bob);
        datanets.withdrawStake(cid);
        assertEq(token.balanceOf(bob), 25 ether, "stake returned");
        assertEq(token.balanceOf(address(datanets)), 0);
        assertEq(uint256(datanets.getContribution(cid).stake), 0);

        vm.prank(bob);
        vm.expectRevert(abi.encodeWithSelector(DatanetRegistry.NothingToWithdraw.selector, cid));
        datanets.withdrawStake(cid);
    }

    function test_withdrawStake_afterRejectionAndPartialSlashReturnsRemainder() public {
        (, uint256 cid) = _setupPending();
        _review(cid, false);
        vm.prank(carol);
        datanets.slash(cid, 5 ether, "low quality");
        vm.warp(block.timestamp + STAKE_COOLDOWN);
        vm.expectEmit(true, true, true, true, address(datanets));
        emit DatanetRegistry.StakeWithdrawn(cid, bob, 20 ether);
        vm.prank(bob);
        datanets.withdrawStake(cid);
        assertEq(token.balanceOf(bob), 20 ether);
        assertEq(token.balanceOf(treasury), 5 ether);
    }

    function test_withdrawStake_revertsForNonContributor() public {
        (, uint256 cid) = _setupPending();
        _review(cid, true);
        vm.warp(block.timestamp + STAKE_COOLDOWN);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(DatanetRegistry.NotContributor.selector, cid, alice));
        datanets.withdrawStake(cid);
    }

    function test_withdrawStake_revertsWhenFullySlashed() public {
        (, uint256 cid) = _setupPending();
        _review(cid, true);
        vm.prank(gov);
        datanets.slash(cid, 25 ether, "fraud");
        vm.warp(block.timestamp + STAKE_COOLDOWN);
        vm.prank(bob);
        vm.expectRevert(abi.encodeWithSelector(DatanetRegistry.NothingToWithdraw.selector, cid));
        datanets.withdrawStake(cid);
    }

    function test_withdrawStake_revertsForUnknownContribution() public {
        vm.prank(bob);
        vm.expectRevert(abi.encodeWithSelector(DatanetRegistry.ContributionNotFound.selector, 3));
        datanets.withdrawStake(3);
    }

    function test_withdrawStake_usesCooldownInForceAtWithdrawal() public {
        (, uint256 cid) = _setupPending();
        vm.warp(500);
        _review(cid, true);
        vm.prank(gov);
        datanets.setStakeCooldown(10);
        vm.warp(509);
        vm.prank(bob);
        vm.expectRevert(abi.encodeWithSelector(DatanetRegistry.StakeLocked.selector, cid, 510));
        datanets.withdrawStake(cid);
        vm.warp(510);
        vm.prank(bob);
        datanets.withdrawStake(cid);
        assertEq(token.balanceOf(bob), 25 ether);
    }

    // ------------------------------------------------------------- governance

    function test_setTreasury_byGovernance() public {
        vm.expectEmit(true, true, true, true, address(datanets));
        emit DatanetRegistry.TreasurySet(address(0xBEEF));
        vm.prank(gov);
        datanets.setTreasury(address(0xBEEF));
        assertEq(datanets.treasury(), address(0xBEEF));
    }

    function test_setTreasury_revertsOnZeroAddress() public {
        vm.prank(gov);
        vm.expectRevert(abi.encodeWithSelector(DatanetRegistry.ZeroAddress.selector));
        datanets.setTreasury(address(0));
    }

    function test_setTreasury_revertsForNonOwner() public {
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, alice));
        datanets.setTreasury(alice);
        assertEq(datanets.treasury(), treasury);
    }

    function test_setCreationFee_byGovernance() public {
        vm.expectEmit(true, true, true, true, address(datanets));
        emit DatanetRegistry.CreationFeeSet(3 ether);
        vm.prank(gov);
        datanets.setCreationFee(3 ether);
        assertEq(datanets.creationFee(), 3 ether);
    }

    function test_setCreationFee_revertsForNonOwner() public {
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, alice));
        datanets.setCreationFee(1);
    }

    function test_setStakeCooldown_byGovernance() public {
        vm.expectEmit(true, true, true, true, address(datanets));
        emit DatanetRegistry.StakeCooldownSet(1 hours);
        vm.prank(gov);
        datanets.setStakeCooldown(1 hours);
        assertEq(uint256(datanets.stakeCooldown()), 1 hours);
    }

    function test_setStakeCooldown_revertsForNonOwner() public {
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, stranger));
        datanets.setStakeCooldown(0);
    }

    function test_transferOwnership_handsGovernanceOver() public {
        vm.expectEmit(true, true, true, true, address(datanets));
        emit Ownable.OwnershipTransferred(gov, alice);
        vm.prank(gov);
        datanets.transferOwnership(alice);
        assertEq(datanets.owner(), alice);
        vm.prank(gov);
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, gov));
        datanets.setCreationFee(1);
        vm.prank(alice);
        datanets.setCreationFee(1);
        assertEq(datanets.creationFee(), 1);
    }

    function test_renounceOwnership_revertsForNonOwner() public {
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, alice));
        datanets.renounceOwnership();
        assertEq(datanets.owner(), gov);
    }

    // ------------------------------------------------------------------ views

    function test_getDatanet_revertsForUnknownId() public {
        vm.expectRevert(abi.encodeWithSelector(DatanetRegistry.DatanetNotFound.selector, 0));
        datanets.getDatanet(0);
    }

    function test_getContribution_revertsForUnknownId() public {
        vm.expectRevert(abi.encodeWithSelector(DatanetRegistry.ContributionNotFound.selector, 0));
        datanets.getContribution(0);
    }
}
