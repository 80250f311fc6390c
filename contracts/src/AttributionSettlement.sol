// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

/// @title Proof-of-Attribution payouts: the epoch clock, contributor pools, signed payout batches, claims.
/// @notice The router funds the current epoch's pool. After an epoch ends, an authorised attributor posts
/// one batch for it (epoch, nonce, Merkle root, total, score file hash, signer-set version) carrying
/// EIP-712 signatures from a threshold of the signer set. Leaves are cumulative
/// `(account, totalEarnedSoFar)` as the OpenZeppelin merkle-tree library builds them, so one claim collects every
/// epoch. A batch becomes claimable once its dispute window has passed; until then the guardian (appointed
/// by the timelock) or governance may revoke it, and a re-post uses the next nonce. Whatever a batch does
/// not pay out rolls over to the next one.
contract AttributionSettlement is Ownable, EIP712 {
    using SafeERC20 for IERC20;

    /// The batch that signers sign.
    struct PayoutBatch {
        uint256 epoch;
        uint256 nonce;
        bytes32 root;
        uint256 total;
        bytes32 scoreFileHash;
        uint256 signerSetVersion;
    }

    /// Laid out so that a claim reads two slots: the root, and (cumulativeTotal, claimableAt, prevEpoch).
    struct Batch {
        bytes32 root;
        uint128 cumulativeTotal;
        // Fixed when posted, so a later change of the dispute window never reopens or shortens it.
        uint64 claimableAt;
        uint64 prevEpoch;
        uint128 total;
        uint128 carryIn;
        bytes32 scoreFileHash;
        uint64 postedAt;
        uint32 nonce;
        bool revoked;
    }

    bytes32 public constant PAYOUT_BATCH_TYPEHASH = keccak256(
        "PayoutBatch(uint256 epoch,uint256 nonce,bytes32 root,uint256 total,bytes32 scoreFileHash,uint256 signerSetVersion)"
    );

    IERC20 public immutable token;
    address public router;
    address public guardian;

    // The epoch clock: epoch `anchorEpoch` started at `anchorTime`; each lasts `epochLength` seconds.
    uint64 public anchorEpoch;
    uint64 public anchorTime;
    uint64 public epochLength;
    uint64 public disputeWindow;

    mapping(uint256 epoch => uint256) public poolOf;
    uint256 public totalFunded;
    uint256 public totalClaimed;
    /// What the last posted batch left unpaid; the next batch may pay it out.
    uint256 public carry;
    /// Epoch of the newest non-revoked batch (0: none yet). Batches chain through `prevEpoch`.
    uint256 public lastPostedEpoch;
    mapping(uint256 epoch => Batch) private _batches;
    mapping(uint256 epoch => uint256) public nextNonce;
    mapping(address account => uint256) public claimed;

    address[] private _signers;
    mapping(address => bool) public isSigner;
    uint256 public threshold;
    uint256 public signerSetVersion;
    mapping(address => bool) public isAttributor;

    event EpochClockSet(uint256 anchorEpoch, uint256 anchorTime, uint256 epochLength);
    event DisputeWindowSet(uint256 disputeWindow);
    event RouterSet(address router);
    event GuardianSet(address guardian);
    event AttributorSet(address indexed attributor, bool enabled);
    event SignerSetUpdated(uint256 indexed version, address[] signers, uint256 threshold);
    /// @notice The router moved `amount` wei of contributor-pool fees into `epoch`'s pool.
    event PoolFunded(uint256 indexed epoch, uint256 amount, uint256 poolTotal);
    /// @notice A payout batch was posted; it can be claimed from `claimableAt`.
    event BatchPosted(
        uint256 indexed epoch,
        uint256 indexed nonce,
        bytes32 root,
        uint256 total,
        uint256 cumulativeTotal,
        bytes32 scoreFileHash,
        uint256 signerSetVersion,
        uint256 available,
        uint64 claimableAt,
        address poster
    );
    /// @notice What batch `epoch` left unpaid (its pools plus earlier carry, minus its total) rolls over.
    event RemainderRolledOver(uint256 indexed fromEpoch, uint256 amount);
    /// @notice A batch was revoked in its dispute window; the carry goes back to `carryRestored` and the
    /// newest batch is again the one of `restoredEpoch`.
    event BatchRevoked(
        uint256 indexed epoch, uint256 indexed nonce, address indexed by, string reason, uint256 carryRestored, uint256 restoredEpoch
    );
    /// @notice `account` was paid `amount` wei, bringing its claimed total to `cumulativeClaimed`.
    event Claimed(
        address indexed account, uint256 indexed epoch, address indexed caller, uint256 amount, uint256 cumulativeClaimed
    );

    error NotRouter(address account);
    error NotAttributor(address account);
    error NotGuardian(address account);
    error EpochNotEnded(uint256 epoch, uint256 currentEpoch);
    error EpochAlreadyPosted(uint256 epoch, uint256 lastPostedEpoch);
    error PreviousBatchInDispute(uint256 epoch, uint256 claimableAt);
    error WrongNonce(uint256 epoch, uint256 expected, uint256 got);
    error WrongSignerSet(uint256 expected, uint256 got);
    error TotalExceedsAvailable(uint256 total, uint256 available);
    error NotEnoughSignatures(uint256 valid, uint256 threshold);
    error UnknownSigner(address signer);
    error SignersNotSorted(address previous, address signer);
    error NotRevocable(uint256 epoch);
    error DisputeWindowOver(uint256 epoch, uint256 claimableAt);
    error NothingClaimable();
    error InvalidProof(address account, uint256 cumulativeAmount);
    error NothingToClaim(address account, uint256 cumulativeAmount, uint256 alreadyClaimed);
    error ClaimExceedsPosted(uint256 totalClaimed, uint256 cumulativeTotal);
    error InvalidThreshold(uint256 threshold, uint256 signers);
    error DuplicateSigner(address signer);
    error ZeroAddress();
    error ZeroEpochLength();

    /// @param token_ the OPEN token
    /// @param governance the timelock that owns the parameters
    /// @param epochLength_ seconds per epoch; epoch 1 starts at deployment
    /// @param disputeWindow_ seconds a posted batch waits before it can be claimed
    constructor(IERC20 token_, address governance, uint64 epochLength_, uint64 disputeWindow_)
        Ownable(governance)
        EIP712("TributaryAttribution", "1")
    {
        if (epochLength_ == 0) revert ZeroEpochLength();
        token = token_;
        anchorEpoch = 1;
        anchorTime = uint64(block.timestamp);
        epochLength = epochLength_;
        disputeWindow = disputeWindow_;
        emit EpochClockSet(1, block.timestamp, epochLength_);
        emit DisputeWindowSet(disputeWindow_);
    }

    // ------------------------------------------------------------- epoch clock

    /// @notice The epoch that inferences settled now belong to.
    function currentEpoch() public view returns (uint256) {
        return uint256(anchorEpoch) + (block.timestamp - anchorTime) / epochLength;
    }

    /// @notice When `epoch` ends (for epochs before the last clock change, a time in the past).
    function epochEnd(uint256 epoch) public view returns (uint256) {
        if (epoch < anchorEpoch) return anchorTime;
        return uint256(anchorTime) + (epoch - anchorEpoch + 1) * epochLength;
    }

    /// @notice Changes the epoch length from the start of the current epoch on, so epoch numbers never go
    /// back (governance only). Emits {EpochClockSet}.
    function setEpochLength(uint64 length) external onlyOwner {
        if (length == 0) revert ZeroEpochLength();
        uint256 e = currentEpoch();
        uint256 start = uint256(anchorTime) + (e - anchorEpoch) * epochLength;
        anchorEpoch = uint64(e);
        anchorTime = uint64(start);
        epochLength = length;
        emit EpochClockSet(e, start, length);
    }

    /// @notice Sets how long batches posted from now on stay revocable before they can be claimed
    /// (governance only); batches already posted keep the window they were posted with. Emits {DisputeWindowSet}.
    function setDisputeWindow(uint64 window) external onlyOwner {
        disputeWindow = window;
        emit DisputeWindowSet(window);
    }

    // ------------------------------------------------------------------ pools

    /// @notice Records `amount` wei that the router has just transferred here for `epoch`'s pool.
    /// Router only. Emits {PoolFunded}.
    function recordPoolFunding(uint256 epoch, uint256 amount) external {
        if (msg.sender != router) revert NotRouter(msg.sender);
        uint256 pool = poolOf[epoch] + amount;
        poolOf[epoch] = pool;
        totalFunded += amount;
        emit PoolFunded(epoch, amount, pool);
    }

    // ---------------------------------------------------------------- batches

    /// @notice The EIP-712 digest that signers sign for `b`.
    function batchDigest(PayoutBatch calldata b) public view returns (bytes32) {
        return _hashTypedDataV4(
            keccak256(
                abi.encode(
                    PAYOUT_BATCH_TYPEHASH, b.epoch, b.nonce, b.root, b.total, b.scoreFileHash, b.signerSetVersion
                )
            )
        );
    }

    /// @notice Posts the payout batch of an ended epoch. `signatures` must come from distinct members of
    /// the current signer set, ordered by signer address, at least `threshold` of them. The total may
    /// not exceed the pools of the epochs it covers plus the carry. Attributors only.
    /// Emits {BatchPosted} and {RemainderRolledOver}.
    function postBatch(PayoutBatch calldata b, bytes[] calldata signatures) external {
        if (!isAttributor[msg.sender]) revert NotAttributor(msg.sender);
        uint256 cur = currentEpoch();
        if (b.epoch >= cur) revert EpochNotEnded(b.epoch, cur);
        uint256 prev = lastPostedEpoch;
        if (b.epoch <= prev) revert EpochAlreadyPosted(b.epoch, prev);
        Batch storage prevBatch = _batches[prev];
        if (prev != 0) {
            uint256 prevClaimableAt = prevBatch.claimableAt;
            if (block.timestamp < prevClaimableAt) revert PreviousBatchInDispute(prev, prevClaimableAt);
        }
        if (b.nonce != nextNonce[b.epoch]) revert WrongNonce(b.epoch, nextNonce[b.epoch], b.nonce);
        if (b.signerSetVersion != signerSetVersion) revert WrongSignerSet(signerSetVersion, b.signerSetVersion);
        _checkSignatures(batchDigest(b), signatures);

        uint256 available = carry;
        for (uint256 e = prev + 1; e <= b.epoch; e++) {
            available += poolOf[e];
        }
        if (b.total > available) revert TotalExceedsAvailable(b.total, available);

        uint128 cumulative = prevBatch.cumulativeTotal + SafeCast.toUint128(b.total);
        _batches[b.epoch] = Batch({
            root: b.root,
            cumulativeTotal: cumulative,
            claimableAt: uint64(block.timestamp) + disputeWindow,
            prevEpoch: uint64(prev),
            total: SafeCast.toUint128(b.total),
            carryIn: SafeCast.toUint128(carry),
            scoreFileHash: b.scoreFileHash,
            postedAt: uint64(block.timestamp),
            nonce: SafeCast.toUint32(b.nonce),
            revoked: false
        });
        nextNonce[b.epoch] = b.nonce + 1;
        lastPostedEpoch = b.epoch;
        // Cannot underflow: b.total <= available was checked above.
        uint256 remainder;
        unchecked {
            remainder = available - b.total;
        }
        carry = remainder;
        _emitPosted(b, cumulative, available);
        emit RemainderRolledOver(b.epoch, remainder);
    }

    function _emitPosted(PayoutBatch calldata b, uint256 cumulative, uint256 available) private {
        emit BatchPosted(
            b.epoch,
            b.nonce,
            b.root,
            b.total,
            cumulative,
            b.scoreFileHash,
            b.signerSetVersion,
            available,
            uint64(block.timestamp) + disputeWindow,
            msg.sender
        );
    }

    /// @notice Revokes the newest batch while it is in its dispute window (guardian or governance).
    /// Emits {BatchRevoked}.
    function revokeBatch(uint256 epoch, string calldata reason) external {
        if (msg.sender != guardian && msg.sender != owner()) revert NotGuardian(msg.sender);
        Batch storage b = _batches[epoch];
        if (epoch == 0 || epoch != lastPostedEpoch || b.revoked) revert NotRevocable(epoch);
        uint256 claimableAt = b.claimableAt;
        if (block.timestamp >= claimableAt) revert DisputeWindowOver(epoch, claimableAt);
        b.revoked = true;
        carry = b.carryIn;
        lastPostedEpoch = b.prevEpoch;
        emit BatchRevoked(epoch, b.nonce, msg.sender, reason, b.carryIn, b.prevEpoch);
    }

    // ----------------------------------------------------------------- claims

    /// @notice Pays the caller what its cumulative leaf in the newest claimable batch adds to what it
    /// already claimed. Emits {Claimed}.
    function claim(uint256 cumulativeAmount, bytes32[] calldata proof) external {
        _claim(msg.sender, cumulativeAmount, proof);
    }

    /// @notice The same as {claim} for any account, by anyone; the tokens go to `account`. Emits {Claimed}.
    function claimFor(address account, uint256 cumulativeAmount, bytes32[] calldata proof) external {
        _claim(account, cumulativeAmount, proof);
    }

    function _claim(address account, uint256 cumulativeAmount, bytes32[] calldata proof) private {
        uint256 epoch = claimableEpoch();
        if (epoch == 0) revert NothingClaimable();
        Batch storage b = _batches[epoch];
        bytes32 leaf = keccak256(bytes.concat(keccak256(abi.encode(account, cumulativeAmount))));
        if (!MerkleProof.verifyCalldata(proof, b.root, leaf)) revert InvalidProof(account, cumulativeAmount);
        uint256 already = claimed[account];
        if (cumulativeAmount <= already) revert NothingToClaim(account, cumulativeAmount, already);
        uint256 amount = cumulativeAmount - already;
        uint256 newTotal = totalClaimed + amount;
        if (newTotal > b.cumulativeTotal) revert ClaimExceedsPosted(newTotal, b.cumulativeTotal);
        totalClaimed = newTotal;
        claimed[account] = cumulativeAmount;
        token.safeTransfer(account, amount);
        emit Claimed(account, epoch, msg.sender, amount, cumulativeAmount);
    }

    // ------------------------------------------------------------- governance

    /// @notice Sets the router that funds pools; set once at deployment (governance only). Emits {RouterSet}.
    function setRouter(address router_) external onlyOwner {
        if (router_ == address(0)) revert ZeroAddress();
        router = router_;
        emit RouterSet(router_);
    }

    /// @notice Appoints the guardian who may revoke batches in their dispute window (governance only).
    /// Emits {GuardianSet}.
    function setGuardian(address guardian_) external onlyOwner {
        guardian = guardian_;
        emit GuardianSet(guardian_);
    }

    /// @notice Allows or disallows an account to post batches (governance only). Emits {AttributorSet}.
    function setAttributor(address attributor, bool enabled) external onlyOwner {
        isAttributor[attributor] = enabled;
        emit AttributorSet(attributor, enabled);
    }

    /// @notice Replaces the signer set and threshold; batches signed for an older version are refused
    /// (governance only). Emits {SignerSetUpdated}.
    function setSigners(address[] calldata signers_, uint256 threshold_) external onlyOwner {
        if (threshold_ == 0 || threshold_ > signers_.length) revert InvalidThreshold(threshold_, signers_.length);
        for (uint256 i = 0; i < _signers.length; i++) {
            isSigner[_signers[i]] = false;
        }
        for (uint256 i = 0; i < signers_.length; i++) {
            address s = signers_[i];
            if (s == address(0)) revert ZeroAddress();
            if (isSigner[s]) revert DuplicateSigner(s);
            isSigner[s] = true;
        }
        _signers = signers_;
        threshold = threshold_;
        uint256 version = ++signerSetVersion;
        emit SignerSetUpdated(version, signers_, threshold_);
    }

    // ------------------------------------------------------------------ views

    /// @notice The epoch of the newest batch whose dispute window has passed (0: none).
    function claimableEpoch() public view returns (uint256) {
        uint256 e = lastPostedEpoch;
        if (e == 0) return 0;
        Batch storage b = _batches[e];
        if (block.timestamp >= b.claimableAt) return e;
        // The previous batch was out of its window before this one could be posted.
        return b.prevEpoch;
    }

    function getBatch(uint256 epoch) external view returns (Batch memory) {
        return _batches[epoch];
    }

    function signers() external view returns (address[] memory) {
        return _signers;
    }

    /// @notice What this contract owes: everything funded and not yet claimed.
    function outstanding() external view returns (uint256) {
        return totalFunded - totalClaimed;
    }

    function _checkSignatures(bytes32 digest, bytes[] calldata signatures) private view {
        address last;
        uint256 valid;
        for (uint256 i = 0; i < signatures.length; i++) {
            address s = ECDSA.recover(digest, signatures[i]);
            if (s <= last) revert SignersNotSorted(last, s);
            if (!isSigner[s]) revert UnknownSigner(s);
            last = s;
            valid++;
        }
        if (valid < threshold) revert NotEnoughSignatures(valid, threshold);
    }
}
