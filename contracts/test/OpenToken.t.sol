// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Fixture} from "./utils/Fixture.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";
import {IVotes} from "@openzeppelin/contracts/governance/utils/IVotes.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";
import {Votes} from "@openzeppelin/contracts/governance/utils/Votes.sol";
import {Nonces} from "@openzeppelin/contracts/utils/Nonces.sol";
import {Checkpoints} from "@openzeppelin/contracts/utils/structs/Checkpoints.sol";
import {OpenToken} from "../src/OpenToken.sol";

contract OpenTokenTest is Fixture {
    bytes32 internal constant PERMIT_TYPEHASH =
        keccak256("Permit(address owner,address spender,uint256 value,uint256 nonce,uint256 deadline)");
    bytes32 internal constant DELEGATION_TYPEHASH = keccak256("Delegation(address delegatee,uint256 nonce,uint256 expiry)");

    uint256 internal ownerKey = 0x0DDBA11;
    address internal owner_;
    address internal spender = address(0x5BE7);
    address internal alice = address(0xA11CE0);
    address internal bob = address(0xB0B0);

    function setUp() public override {
        super.setUp();
        owner_ = vm.addr(ownerKey);
    }

    // ----------------------------------------------------------------- helpers

    function _domainSeparator() internal view returns (bytes32) {
        return keccak256(
            abi.encode(
                keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"),
                keccak256(bytes("Open")),
                keccak256(bytes("1")),
                block.chainid,
                address(token)
            )
        );
    }

    function _permitDigest(address o, address s, uint256 value, uint256 nonce, uint256 deadline)
        internal
        view
        returns (bytes32)
    {
        bytes32 structHash = keccak256(abi.encode(PERMIT_TYPEHASH, o, s, value, nonce, deadline));
        return keccak256(abi.encodePacked("\x19\x01", _domainSeparator(), structHash));
    }

    function _delegationDigest(address delegatee, uint256 nonce, uint256 expiry) internal view returns (bytes32) {
        bytes32 structHash = keccak256(abi.encode(DELEGATION_TYPEHASH, delegatee, nonce, expiry));
        return keccak256(abi.encodePacked("\x19\x01", _domainSeparator(), structHash));
    }

    // ----------------------------------------------------------------- supply

    function test_supply_isMintedOnceToHolder() public {
        assertEq(token.totalSupply(), SUPPLY);
        assertEq(token.balanceOf(holder), SUPPLY);
        assertEq(token.name(), "Open");
        assertEq(token.symbol(), "OPEN");
        assertEq(uint256(token.decimals()), 18);
    }

    function test_constructor_emitsMintTransfer() public {
        vm.expectEmit(true, true, true, true);
        emit IERC20.Transfer(address(0), alice, 123 ether);
        OpenToken t = new OpenToken(alice, 123 ether);
        assertEq(t.totalSupply(), 123 ether);
        assertEq(t.balanceOf(alice), 123 ether);
    }

    function test_constructor_revertsAboveVotesSafeSupply() public {
        uint256 tooMuch = uint256(type(uint208).max) + 1;
        vm.expectRevert(
            abi.encodeWithSignature("ERC20ExceededSafeSupply(uint256,uint256)", tooMuch, uint256(type(uint208).max))
        );
        new OpenToken(alice, tooMuch);
    }

    // --------------------------------------------------------- ERC-20 basics

    function test_transfer_movesBalanceAndEmits() public {
        vm.expectEmit(true, true, true, true, address(token));
        emit IERC20.Transfer(holder, alice, 10 ether);
        vm.prank(holder);
        assertTrue(token.transfer(alice, 10 ether));
        assertEq(token.balanceOf(alice), 10 ether);
        assertEq(token.balanceOf(holder), SUPPLY - 10 ether);
        assertEq(token.totalSupply(), SUPPLY, "supply is fixed");
    }

    function test_transfer_revertsOnInsufficientBalance() public {
        _fund(alice, 1 ether);
        vm.prank(alice);
        vm.expectRevert(
            abi.encodeWithSelector(IERC20Errors.ERC20InsufficientBalance.selector, alice, 1 ether, 1 ether + 1)
        );
        token.transfer(bob, 1 ether + 1);
    }

    function test_transfer_revertsToZeroAddress() public {
        vm.prank(holder);
        vm.expectRevert(abi.encodeWithSelector(IERC20Errors.ERC20InvalidReceiver.selector, address(0)));
        token.transfer(address(0), 1);
    }

    function test_approveAndTransferFrom_spendAllowance() public {
        vm.expectEmit(true, true, true, true, address(token));
        emit IERC20.Approval(holder, spender, 5 ether);
        vm.prank(holder);
        assertTrue(token.approve(spender, 5 ether));
        assertEq(token.allowance(holder, spender), 5 ether);

        vm.prank(spender);
        assertTrue(token.transferFrom(holder, bob, 3 ether));
        assertEq(token.balanceOf(bob), 3 ether);
        assertEq(token.allowance(holder, spender), 2 ether);

        vm.prank(spender);
        vm.expectRevert(
            abi.encodeWithSelector(IERC20Errors.ERC20InsufficientAllowance.selector, spender, 2 ether, 3 ether)
        );
        token.transferFrom(holder, bob, 3 ether);
    }

    // ----------------------------------------------------------------- permit

    function test_domainSeparator_matchesEip712() public {
        assertEq(token.DOMAIN_SEPARATOR(), _domainSeparator());
        (, string memory name, string memory version, uint256 chainId, address verifying,,) = token.eip712Domain();
        assertEq(name, "Open");
        assertEq(version, "1");
        assertEq(chainId, block.chainid);
        assertEq(verifying, address(token));
    }

    function test_permit_setsAllowanceAndBumpsNonce() public {
        _fund(owner_, 100 ether);
        uint256 deadline = block.timestamp + 1 hours;
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(ownerKey, _permitDigest(owner_, spender, 40 ether, 0, deadline));
        assertEq(token.nonces(owner_), 0);

        vm.expectEmit(true, true, true, true, address(token));
        emit IERC20.Approval(owner_, spender, 40 ether);
        vm.prank(bob); // anyone may submit the permit
        token.permit(owner_, spender, 40 ether, deadline, v, r, s);

        assertEq(token.allowance(owner_, spender), 40 ether);
        assertEq(token.nonces(owner_), 1);

        vm.prank(spender);
        token.transferFrom(owner_, spender, 40 ether);
        assertEq(token.balanceOf(spender), 40 ether);
        assertEq(token.balanceOf(owner_), 60 ether);
    }

    function test_permit_acceptsDeadlineEqualToNow() public {
        uint256 deadline = block.timestamp;
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(ownerKey, _permitDigest(owner_, spender, 1, 0, deadline));
        token.permit(owner_, spender, 1, deadline, v, r, s);
        assertEq(token.allowance(owner_, spender), 1);
    }

    function test_permit_revertsWhenExpired() public {
        vm.warp(10_000);
        uint256 deadline = 9_999;
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(ownerKey, _permitDigest(owner_, spender, 1 ether, 0, deadline));
        vm.expectRevert(abi.encodeWithSelector(ERC20Permit.ERC2612ExpiredSignature.selector, deadline));
        token.permit(owner_, spender, 1 ether, deadline, v, r, s);
        assertEq(token.allowance(owner_, spender), 0);
        assertEq(token.nonces(owner_), 0);
    }

    function test_permit_revertsForWrongSigner() public {
        uint256 otherKey = 0xBADBAD;
        address other = vm.addr(otherKey);
        uint256 deadline = block.timestamp + 1;
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(otherKey, _permitDigest(owner_, spender, 1 ether, 0, deadline));
        vm.expectRevert(abi.encodeWithSelector(ERC20Permit.ERC2612InvalidSigner.selector, other, owner_));
        token.permit(owner_, spender, 1 ether, deadline, v, r, s);
        assertEq(token.allowance(owner_, spender), 0);
    }

    function test_permit_revertsOnReplay() public {
        uint256 deadline = block.timestamp + 1;
        bytes32 digest = _permitDigest(owner_, spender, 1 ether, 0, deadline);
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(ownerKey, digest);
        token.permit(owner_, spender, 1 ether, deadline, v, r, s);
        // Replayed, the signature is checked against nonce 1, so it recovers some other address.
        address recovered = ecrecover(_permitDigest(owner_, spender, 1 ether, 1, deadline), v, r, s);
        assertTrue(recovered != owner_);
        vm.expectRevert(abi.encodeWithSelector(ERC20Permit.ERC2612InvalidSigner.selector, recovered, owner_));
        token.permit(owner_, spender, 1 ether, deadline, v, r, s);
    }

    function test_permit_revertsWhenValueTampered() public {
        uint256 deadline = block.timestamp + 1;
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(ownerKey, _permitDigest(owner_, spender, 1 ether, 0, deadline));
        address recovered = ecrecover(_permitDigest(owner_, spender, 2 ether, 0, deadline), v, r, s);
        vm.expectRevert(abi.encodeWithSelector(ERC20Permit.ERC2612InvalidSigner.selector, recovered, owner_));
        token.permit(owner_, spender, 2 ether, deadline, v, r, s);
    }

    // ------------------------------------------------------------------ votes

    function test_clock_isBlockNumber() public {
        vm.roll(1234);
        assertEq(uint256(token.clock()), 1234);
        assertEq(token.CLOCK_MODE(), "mode=blocknumber&from=default");
    }

    function test_votes_areZeroUntilDelegated() public {
        assertEq(token.getVotes(holder), 0);
        assertEq(token.delegates(holder), address(0));
        assertEq(uint256(token.numCheckpoints(holder)), 0);
    }

    function test_delegate_selfEmitsAndCountsVotes() public {
        vm.roll(10);
        vm.expectEmit(true, true, true, true, address(token));
        emit IVotes.DelegateChanged(holder, address(0), holder);
        vm.expectEmit(true, true, true, true, address(token));
        emit IVotes.DelegateVotesChanged(holder, 0, SUPPLY);
        vm.prank(holder);
        token.delegate(holder);

        assertEq(token.delegates(holder), holder);
        assertEq(token.getVotes(holder), SUPPLY);
        assertEq(uint256(token.numCheckpoints(holder)), 1);
        Checkpoints.Checkpoint208 memory cp = token.checkpoints(holder, 0);
        assertEq(uint256(cp._key), 10);
        assertEq(uint256(cp._value), SUPPLY);
    }

    function test_delegate_toAnotherMovesVotes() public {
        _fund(alice, 100 ether);
        vm.prank(alice);
        token.delegate(alice);
        assertEq(token.getVotes(alice), 100 ether);

        vm.expectEmit(true, true, true, true, address(token));
        emit IVotes.DelegateChanged(alice, alice, bob);
        vm.expectEmit(true, true, true, true, address(token));
        emit IVotes.DelegateVotesChanged(alice, 100 ether, 0);
        vm.expectEmit(true, true, true, true, address(token));
        emit IVotes.DelegateVotesChanged(bob, 0, 100 ether);
        vm.prank(alice);
        token.delegate(bob);

        assertEq(token.getVotes(alice), 0);
        assertEq(token.getVotes(bob), 100 ether);
        assertEq(token.balanceOf(bob), 0, "delegation moves no tokens");
    }

    function test_transfer_movesDelegatedVotes() public {
        vm.prank(holder);
        token.delegate(holder);
        vm.prank(alice);
        token.delegate(alice);

        vm.expectEmit(true, true, true, true, address(token));
        emit IERC20.Transfer(holder, alice, 30 ether);
        vm.expectEmit(true, true, true, true, address(token));
        emit IVotes.DelegateVotesChanged(holder, SUPPLY, SUPPLY - 30 ether);
        vm.expectEmit(true, true, true, true, address(token));
        emit IVotes.DelegateVotesChanged(alice, 0, 30 ether);
        vm.prank(holder);
        token.transfer(alice, 30 ether);

        assertEq(token.getVotes(holder), SUPPLY - 30 ether);
        assertEq(token.getVotes(alice), 30 ether);
        // bob never delegated: his received tokens carry no votes.
        vm.prank(alice);
        token.transfer(bob, 10 ether);
        assertEq(token.getVotes(alice), 20 ether);
        assertEq(token.getVotes(bob), 0);
    }

    function test_getPastVotes_readsCheckpoints() public {
        vm.roll(100);
        _fund(alice, 50 ether);
        vm.prank(alice);
        token.delegate(alice); // block 100: 50

        vm.roll(110);
        _fund(alice, 25 ether); // block 110: 75

        vm.roll(120);
        vm.prank(alice);
        token.transfer(bob, 70 ether); // block 120: 5

        vm.roll(130);
        assertEq(token.getPastVotes(alice, 99), 0);
        assertEq(token.getPastVotes(alice, 100), 50 ether);
        assertEq(token.getPastVotes(alice, 109), 50 ether);
        assertEq(token.getPastVotes(alice, 110), 75 ether);
        assertEq(token.getPastVotes(alice, 119), 75 ether);
        assertEq(token.getPastVotes(alice, 120), 5 ether);
        assertEq(token.getPastVotes(alice, 129), 5 ether);
        assertEq(token.getVotes(alice), 5 ether);
        assertEq(uint256(token.numCheckpoints(alice)), 3);
        Checkpoints.Checkpoint208 memory cp = token.checkpoints(alice, 1);
        assertEq(uint256(cp._key), 110);
        assertEq(uint256(cp._value), 75 ether);
    }

    function test_getPastVotes_sameBlockChangesKeepOneCheckpoint() public {
        vm.roll(200);
        _fund(alice, 1 ether);
        vm.prank(alice);
        token.delegate(alice);
        _fund(alice, 2 ether);
        assertEq(uint256(token.numCheckpoints(alice)), 1);
        vm.roll(201);
        assertEq(token.getPastVotes(alice, 200), 3 ether);
    }

    function test_getPastVotes_revertsForCurrentOrFutureBlock() public {
        vm.roll(50);
        vm.expectRevert(abi.encodeWithSelector(Votes.ERC5805FutureLookup.selector, 50, uint48(50)));
        token.getPastVotes(holder, 50);
        vm.expectRevert(abi.encodeWithSelector(Votes.ERC5805FutureLookup.selector, 51, uint48(50)));
        token.getPastVotes(holder, 51);
    }

    function test_getPastTotalSupply_isFixedSupply() public {
        vm.roll(5);
        assertEq(token.getPastTotalSupply(4), SUPPLY);
        assertEq(token.getPastTotalSupply(0), 0, "before the mint block there was nothing");
        vm.expectRevert(abi.encodeWithSelector(Votes.ERC5805FutureLookup.selector, 5, uint48(5)));
        token.getPastTotalSupply(5);
    }

    // --------------------------------------------------------- delegateBySig

    function test_delegateBySig_delegatesSignerVotes() public {
        _fund(owner_, 8 ether);
        uint256 expiry = block.timestamp + 1 days;
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(ownerKey, _delegationDigest(bob, 0, expiry));
        vm.expectEmit(true, true, true, true, address(token));
        emit IVotes.DelegateChanged(owner_, address(0), bob);
        vm.expectEmit(true, true, true, true, address(token));
        emit IVotes.DelegateVotesChanged(bob, 0, 8 ether);
        token.delegateBySig(bob, 0, expiry, v, r, s);
        assertEq(token.delegates(owner_), bob);
        assertEq(token.getVotes(bob), 8 ether);
        assertEq(token.nonces(owner_), 1, "delegation and permit share the nonce");

        vm.expectRevert(abi.encodeWithSelector(Nonces.InvalidAccountNonce.selector, owner_, 1));
        token.delegateBySig(bob, 0, expiry, v, r, s);
    }

    function test_delegateBySig_revertsWhenExpired() public {
        vm.warp(5000);
        uint256 expiry = 4999;
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(ownerKey, _delegationDigest(bob, 0, expiry));
        vm.expectRevert(abi.encodeWithSelector(IVotes.VotesExpiredSignature.selector, expiry));
        token.delegateBySig(bob, 0, expiry, v, r, s);
    }
}
