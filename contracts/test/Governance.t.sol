// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Fixture} from "./utils/Fixture.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {IVotes} from "@openzeppelin/contracts/governance/utils/IVotes.sol";
import {IGovernor} from "@openzeppelin/contracts/governance/IGovernor.sol";
import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";
import {OpenToken} from "../src/OpenToken.sol";
import {DatanetRegistry} from "../src/DatanetRegistry.sol";
import {ModelRegistry} from "../src/ModelRegistry.sol";
import {InferenceRouter} from "../src/InferenceRouter.sol";
import {AttributionSettlement} from "../src/AttributionSettlement.sol";
import {TributaryGovernor} from "../src/TributaryGovernor.sol";
import {TributaryTimelock} from "../src/TributaryTimelock.sol";

/// The real governance stack: OPEN holders delegate, vote on the Governor (block-number clock), and the
/// timelock, which owns every protocol parameter, executes what passed after its delay.
contract GovernanceTest is Fixture {
    uint256 internal constant MIN_DELAY = 2 days;
    uint48 internal constant VOTING_DELAY = 1; // blocks
    uint32 internal constant VOTING_PERIOD = 50; // blocks
    uint256 internal constant QUORUM_PERCENT = 4;

    uint8 internal constant AGAINST = 0;
    uint8 internal constant FOR = 1;

    // Voting power, as shares of the 1e9 OPEN supply: alice 30 %, bob 10 %, carol 2 % (below quorum).
    uint256 internal constant ALICE_VOTES = 300_000_000 ether;
    uint256 internal constant BOB_VOTES = 100_000_000 ether;
    uint256 internal constant CAROL_VOTES = 20_000_000 ether;

    address internal alice = address(0xA11CE0);
    address internal bob = address(0xB0B0);
    address internal carol = address(0xCA201);
    address internal newGuardian = address(0x6A7D2);
    address internal modelOwner = address(0x30DE1);
    address internal payer = address(0xBA7E2);

    TributaryTimelock internal timelock;
    TributaryGovernor internal governor;

    event FeeSharesSet(uint16 ownerBps, uint16 poolBps, uint16 treasuryBps);
    event GuardianSet(address guardian);
    event ProposalExecuted(uint256 proposalId);
    event ProposalQueued(uint256 proposalId, uint256 etaSeconds);
    event InferenceSettled(
        bytes32 indexed requestId,
        uint256 indexed modelId,
        address indexed payer,
        uint256 epoch,
        uint256 batchNumber,
        address modelOwner,
        uint256 tokensIn,
        uint256 tokensOut,
        uint256 fee,
        uint256 ownerAmount,
        uint256 poolAmount,
        uint256 treasuryAmount
    );

    /// Deploys the token, the timelock and the Governor, then the protocol owned by the timelock.
    function setUp() public override {
        token = new OpenToken(holder, SUPPLY);

        // The deployer is the timelock's admin only until the Governor holds its roles.
        address[] memory noProposers = new address[](0);
        address[] memory anyoneExecutes = new address[](1); // address(0): anyone may execute
        timelock = new TributaryTimelock(MIN_DELAY, noProposers, anyoneExecutes, address(this));
        governor = new TributaryGovernor(
            IVotes(address(token)), timelock, VOTING_DELAY, VOTING_PERIOD, 0, QUORUM_PERCENT
        );
        timelock.grantRole(timelock.PROPOSER_ROLE(), address(governor));
        timelock.grantRole(timelock.CANCELLER_ROLE(), address(governor));
        timelock.renounceRole(timelock.DEFAULT_ADMIN_ROLE(), address(this));

        // Registries are owned by the timelock from the start; the router and the settlement are wired by
        // the deployer and then handed over, as the deployment script does.
        datanets = new DatanetRegistry(IERC20(address(token)), address(timelock), treasury, STAKE_COOLDOWN);
        models = new ModelRegistry(datanets, IERC20(address(token)), address(timelock), treasury);
        settlement = new AttributionSettlement(IERC20(address(token)), address(this), EPOCH_LENGTH, DISPUTE_WINDOW);
        router = new InferenceRouter(
            IERC20(address(token)),
            models,
            settlement,
            address(this),
            treasury,
            OWNER_BPS,
            POOL_BPS,
            TREASURY_BPS,
            SETTLEMENT_INTERVAL,
            WITHDRAWAL_DELAY
        );
        address[] memory signers_ = new address[](3);
        signers_[0] = vm.addr(0xA11CE);
        signers_[1] = vm.addr(0xB0B);
        signers_[2] = vm.addr(0xCA401);
        settlement.setRouter(address(router));
        settlement.setGuardian(guardian);
        settlement.setAttributor(attributor, true);
        settlement.setSigners(signers_, 2);
        router.setOperator(operator, true);
        settlement.transferOwnership(address(timelock));
        router.transferOwnership(address(timelock));

        _fund(alice, ALICE_VOTES);
        _fund(bob, BOB_VOTES);
        _fund(carol, CAROL_VOTES);
        vm.prank(alice);
        token.delegate(alice);
        vm.prank(bob);
        token.delegate(bob);
        vm.prank(carol);
        token.delegate(carol);
        // Checkpoints are read at past blocks only.
        vm.roll(block.number + 1);
    }

    // ------------------------------------------------------------------ helpers

    struct Proposal {
        address[] targets;
        uint256[] values;
        bytes[] calldatas;
        string description;
    }

    /// setFeeShares(6000 owner, 2500 pool, 1500 treasury) and setGuardian(newGuardian) in one proposal.
    function _feeSharesAndGuardianProposal() internal view returns (Proposal memory p) {
        p.targets = new address[](2);
        p.values = new uint256[](2);
        p.calldatas = new bytes[](2);
        p.targets[0] = address(router);
        p.calldatas[0] = abi.encodeCall(InferenceRouter.setFeeShares, (6_000, 2_500, 1_500));
        p.targets[1] = address(settlement);
        p.calldatas[1] = abi.encodeCall(AttributionSettlement.setGuardian, (newGuardian));
        p.description = "TIP-1: owner share 60%, pool 25%, treasury 15%; appoint a new guardian";
    }

    function _propose(Proposal memory p, address proposer) internal returns (uint256 id) {
        vm.prank(proposer);
        id = governor.propose(p.targets, p.values, p.calldatas, p.description);
    }

    function _descHash(Proposal memory p) internal pure returns (bytes32) {
        return keccak256(bytes(p.description));
    }

    function _queue(Proposal memory p) internal returns (uint256) {
        return governor.queue(p.targets, p.values, p.calldatas, _descHash(p));
    }

    function _execute(Proposal memory p) internal returns (uint256) {
        return governor.execute(p.targets, p.values, p.calldatas, _descHash(p));
    }

    /// Proposes `p`, votes with each voter, and rolls past the voting period.
    function _proposeAndVote(Proposal memory p, address[] memory voters, uint8[] memory support)
        internal
        returns (uint256 id)
    {
        id = _propose(p, alice);
        vm.roll(governor.proposalSnapshot(id) + 1);
        for (uint256 i = 0; i < voters.length; i++) {
            vm.prank(voters[i]);
            governor.castVote(id, support[i]);
        }
        vm.roll(governor.proposalDeadline(id) + 1);
    }

    function _one(address voter, uint8 support) internal pure returns (address[] memory v, uint8[] memory s) {
        v = new address[](1);
        s = new uint8[](1);
        v[0] = voter;
        s[0] = support;
    }

    function _stateBit(IGovernor.ProposalState s) internal pure returns (bytes32) {
        return bytes32(uint256(1) << uint8(s));
    }

    // -------------------------------------------------------------------- setup

    function test_setUp_timelockOwnsEveryParameterAndAdminIsRenounced() public view {
        assertEq(datanets.owner(), address(timelock));
        assertEq(models.owner(), address(timelock));
        assertEq(router.owner(), address(timelock));
        assertEq(settlement.owner(), address(timelock));

        assertTrue(timelock.hasRole(timelock.PROPOSER_ROLE(), address(governor)), "governor proposes");
        assertTrue(timelock.hasRole(timelock.CANCELLER_ROLE(), address(governor)), "governor cancels");
        assertTrue(timelock.hasRole(timelock.EXECUTOR_ROLE(), address(0)), "anyone executes");
        assertTrue(!timelock.hasRole(timelock.DEFAULT_ADMIN_ROLE(), address(this)), "deployer admin renounced");
        assertTrue(!timelock.hasRole(timelock.PROPOSER_ROLE(), address(this)), "deployer cannot propose");
        assertEq(timelock.getMinDelay(), MIN_DELAY);

        assertEq(governor.votingDelay(), 1);
        assertEq(governor.votingPeriod(), 50);
        assertEq(governor.proposalThreshold(), 0);
        assertEq(governor.quorumNumerator(), 4);
        assertEq(address(governor.timelock()), address(timelock));
        assertEq(governor.clock(), block.number);
        assertEq(governor.CLOCK_MODE(), "mode=blocknumber&from=default");
        // 4 % of the 1e9 OPEN supply.
        assertEq(governor.quorum(block.number - 1), 40_000_000 ether);
        assertEq(token.getVotes(alice), ALICE_VOTES);
    }

    // ---------------------------------------------------------------- end to end

    function test_proposal_changesFeeSharesAndGuardian_thenSettleSplitsByNewShares() public {
        Proposal memory p = _feeSharesAndGuardianProposal();
        uint256 proposedAt = block.number;

        vm.prank(alice);
        uint256 id = governor.propose(p.targets, p.values, p.calldatas, p.description);
        assertEq(id, governor.hashProposal(p.targets, p.values, p.calldatas, _descHash(p)));
        assertEq(uint8(governor.state(id)), uint8(IGovernor.ProposalState.Pending));
        assertEq(governor.proposalSnapshot(id), proposedAt + VOTING_DELAY);
        assertEq(governor.proposalDeadline(id), proposedAt + VOTING_DELAY + VOTING_PERIOD);
        assertEq(governor.proposalProposer(id), alice);

        // Voting opens the block after the snapshot.
        vm.roll(proposedAt + VOTING_DELAY + 1);
        assertEq(uint8(governor.state(id)), uint8(IGovernor.ProposalState.Active));
        vm.prank(alice);
        assertEq(governor.castVote(id, FOR), ALICE_VOTES);
        vm.prank(carol);
        assertEq(governor.castVote(id, AGAINST), CAROL_VOTES);
        assertTrue(governor.hasVoted(id, alice));
        (uint256 against, uint256 forVotes, uint256 abstain) = governor.proposalVotes(id);
        assertEq(against, CAROL_VOTES);
        assertEq(forVotes, ALICE_VOTES);
        assertEq(abstain, 0);

        // Still active on the deadline block itself.
        vm.roll(proposedAt + VOTING_DELAY + VOTING_PERIOD);
        assertEq(uint8(governor.state(id)), uint8(IGovernor.ProposalState.Active));
        vm.roll(proposedAt + VOTING_DELAY + VOTING_PERIOD + 1);
        assertEq(uint8(governor.state(id)), uint8(IGovernor.ProposalState.Succeeded));

        uint256 eta = block.timestamp + MIN_DELAY;
        vm.expectEmit(true, true, true, true, address(governor));
        emit ProposalQueued(id, eta);
        _queue(p);
        assertEq(uint8(governor.state(id)), uint8(IGovernor.ProposalState.Queued));
        assertEq(governor.proposalEta(id), eta);

        vm.warp(eta);
        vm.expectEmit(true, true, true, true, address(router));
        emit FeeSharesSet(6_000, 2_500, 1_500);
        vm.expectEmit(true, true, true, true, address(settlement));
        emit GuardianSet(newGuardian);
        vm.expectEmit(true, true, true, true, address(governor));
        emit ProposalExecuted(id);
        vm.prank(bob); // the timelock's executor role is open: anyone may execute
        _execute(p);

        assertEq(uint8(governor.state(id)), uint8(IGovernor.ProposalState.Executed));
        assertEq(router.ownerBps(), 6_000);
        assertEq(router.poolBps(), 2_500);
        assertEq(router.treasuryBps(), 1_500);
        assertEq(settlement.guardian(), newGuardian);

        // A settle afterwards: fee = (12345 * 1000 + 1001 * 3000) / 1000 = 15348 wei,
        // owner = floor(15348 * 0.60) = 9208, treasury = floor(15348 * 0.15) = 2302, pool = 3838.
        uint256 modelId = _model(modelOwner, _datanetWithVersion(modelOwner), 1_000, 3_000);
        _escrow(payer, 1 ether);
        InferenceRouter.Item[] memory items = new InferenceRouter.Item[](1);
        items[0] = InferenceRouter.Item({
            requestId: keccak256("req-after-tip-1"), payer: payer, modelId: uint64(modelId), tokensIn: 12_345, tokensOut: 1_001
        });
        uint256 epoch = settlement.currentEpoch();
        assertEq(epoch, 3); // deployed at t=1, now t=1+2 days
        uint256 treasuryBefore = token.balanceOf(treasury);
        uint256 settlementBefore = token.balanceOf(address(settlement));

        vm.expectEmit(true, true, true, true, address(router));
        emit InferenceSettled(
            keccak256("req-after-tip-1"), modelId, payer, epoch, 1, modelOwner, 12_345, 1_001, 15_348, 9_208, 3_838, 2_302
        );
        vm.prank(operator);
        router.settle(1, items);

        (uint256 escrowLeft,) = router.escrowOf(payer);
        assertEq(escrowLeft, 1 ether - 15_348);
        assertEq(router.ownerEarnings(modelOwner), 9_208);
        assertEq(token.balanceOf(treasury) - treasuryBefore, 2_302);
        assertEq(token.balanceOf(address(settlement)) - settlementBefore, 3_838);
        assertEq(settlement.poolOf(epoch), 3_838);
    }

    function test_appointedGuardian_canRevokeInTheDisputeWindow() public {
        Proposal memory p = _feeSharesAndGuardianProposal();
        (address[] memory v, uint8[] memory s) = _one(alice, FOR);
        _proposeAndVote(p, v, s);
        _queue(p);
        vm.warp(block.timestamp + MIN_DELAY);
        _execute(p);

        // The old guardian lost the power; the new one has it.
        AttributionSettlement.PayoutBatch memory b = AttributionSettlement.PayoutBatch({
            epoch: 1, nonce: 0, root: keccak256("root"), total: 0, scoreFileHash: keccak256("scores"), signerSetVersion: 1
        });
        bytes32 digest = settlement.batchDigest(b);
        bytes[] memory sigs = new bytes[](2);
        (uint256 k0, uint256 k1) = vm.addr(0xA11CE) < vm.addr(0xB0B) ? (uint256(0xA11CE), uint256(0xB0B)) : (uint256(0xB0B), uint256(0xA11CE));
        (uint8 v0, bytes32 r0, bytes32 s0) = vm.sign(k0, digest);
        (uint8 v1, bytes32 r1, bytes32 s1) = vm.sign(k1, digest);
        sigs[0] = abi.encodePacked(r0, s0, v0);
        sigs[1] = abi.encodePacked(r1, s1, v1);
        vm.prank(attributor);
        settlement.postBatch(b, sigs);

        vm.expectRevert(abi.encodeWithSelector(AttributionSettlement.NotGuardian.selector, guardian));
        vm.prank(guardian);
        settlement.revokeBatch(1, "old guardian");

        vm.prank(newGuardian);
        settlement.revokeBatch(1, "bad scores");
        assertEq(settlement.lastPostedEpoch(), 0);
        assertTrue(settlement.getBatch(1).revoked);
    }

    // ------------------------------------------------------------ refusals

    function test_execute_revertsBeforeTheTimelockDelay() public {
        Proposal memory p = _feeSharesAndGuardianProposal();
        (address[] memory v, uint8[] memory s) = _one(alice, FOR);
        uint256 id = _proposeAndVote(p, v, s);
        _queue(p);
        uint256 eta = governor.proposalEta(id);
        bytes32 opId = timelock.hashOperationBatch(
            p.targets, p.values, p.calldatas, 0, bytes32(bytes20(address(governor))) ^ _descHash(p)
        );
        assertTrue(timelock.isOperationPending(opId));

        bytes32 readyBit = bytes32(uint256(1) << uint8(TimelockController.OperationState.Ready));
        vm.expectRevert(abi.encodeWithSelector(TimelockController.TimelockUnexpectedOperationState.selector, opId, readyBit));
        _execute(p);

        vm.warp(eta - 1);
        vm.expectRevert(abi.encodeWithSelector(TimelockController.TimelockUnexpectedOperationState.selector, opId, readyBit));
        _execute(p);
        assertEq(router.ownerBps(), OWNER_BPS);
        assertEq(settlement.guardian(), guardian);

        // Exactly at the eta it goes through.
        vm.warp(eta);
        _execute(p);
        assertEq(router.ownerBps(), 6_000);
        assertTrue(timelock.isOperationDone(opId));
    }

    function test_queue_revertsForAProposalVotedDown() public {
        Proposal memory p = _feeSharesAndGuardianProposal();
        address[] memory v = new address[](2);
        uint8[] memory s = new uint8[](2);
        (v[0], s[0]) = (alice, AGAINST);
        (v[1], s[1]) = (bob, FOR);
        uint256 id = _proposeAndVote(p, v, s);
        assertEq(uint8(governor.state(id)), uint8(IGovernor.ProposalState.Defeated));

        vm.expectRevert(
            abi.encodeWithSelector(
                IGovernor.GovernorUnexpectedProposalState.selector,
                id,
                IGovernor.ProposalState.Defeated,
                _stateBit(IGovernor.ProposalState.Succeeded)
            )
        );
        _queue(p);

        vm.warp(block.timestamp + MIN_DELAY);
        vm.expectRevert(
            abi.encodeWithSelector(
                IGovernor.GovernorUnexpectedProposalState.selector,
                id,
                IGovernor.ProposalState.Defeated,
                _stateBit(IGovernor.ProposalState.Queued)
            )
        );
        _execute(p);
        assertEq(router.ownerBps(), OWNER_BPS);
        assertEq(router.treasuryBps(), TREASURY_BPS);
    }

    function test_queue_revertsWhenQuorumIsNotReached() public {
        Proposal memory p = _feeSharesAndGuardianProposal();
        // Carol's 2 % is all for, but the quorum is 4 %.
        (address[] memory v, uint8[] memory s) = _one(carol, FOR);
        uint256 id = _proposeAndVote(p, v, s);
        (, uint256 forVotes,) = governor.proposalVotes(id);
        assertEq(forVotes, CAROL_VOTES);
        assertLt(forVotes, governor.quorum(governor.proposalSnapshot(id)));
        assertEq(uint8(governor.state(id)), uint8(IGovernor.ProposalState.Defeated));

        vm.expectRevert(
            abi.encodeWithSelector(
                IGovernor.GovernorUnexpectedProposalState.selector,
                id,
                IGovernor.ProposalState.Defeated,
                _stateBit(IGovernor.ProposalState.Succeeded)
            )
        );
        _queue(p);
    }

    function test_setFeeShares_revertsForAnyCallerButTheTimelock() public {
        address[4] memory callers = [alice, holder, address(governor), address(this)];
        for (uint256 i = 0; i < callers.length; i++) {
            vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, callers[i]));
            vm.prank(callers[i]);
            router.setFeeShares(6_000, 2_500, 1_500);
        }
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, alice));
        vm.prank(alice);
        settlement.setGuardian(alice);
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, alice));
        vm.prank(alice);
        models.setRegistrationFee(1 ether);
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, alice));
        vm.prank(alice);
        datanets.setCreationFee(1 ether);
        assertEq(router.ownerBps(), OWNER_BPS);
        assertEq(settlement.guardian(), guardian);
    }

    function test_timelock_refusesToScheduleForAnyoneButTheGovernor() public {
        bytes memory data = abi.encodeCall(InferenceRouter.setFeeShares, (10_000, 0, 0));
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector, alice, timelock.PROPOSER_ROLE()
            )
        );
        vm.prank(alice);
        timelock.schedule(address(router), 0, data, 0, bytes32(0), MIN_DELAY);
    }
}
