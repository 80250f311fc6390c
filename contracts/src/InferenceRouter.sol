// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {ModelRegistry} from "./ModelRegistry.sol";
import {AttributionSettlement} from "./AttributionSettlement.sol";

/// @title Payable AI: payers' escrow, and batched settlement of inference fees.
/// @notice Payers deposit OPEN and give each serving operator an allowance. An operator settles usage
/// in batches numbered 1, 2, 3… (a repeated or skipped number is refused, which makes settlement
/// idempotent). Each inference's fee is floor((tokensIn × priceIn + tokensOut × priceOut) / 1000) from the
/// model's registered prices, split into owner = floor(fee × ownerBps / 10000), treasury =
/// floor(fee × treasuryBps / 10000) and pool = the rest, which goes to the current attribution epoch.
/// An inference the payer cannot cover emits {InferenceRejected}; the rest of the batch goes through.
contract InferenceRouter is Ownable {
    using SafeERC20 for IERC20;

    /// One inference to bill. `requestId` is the serving log's id for it.
    struct Item {
        bytes32 requestId;
        address payer;
        uint64 modelId;
        uint32 tokensIn;
        uint32 tokensOut;
    }

    struct Escrow {
        uint128 balance;
        uint128 pendingWithdrawal;
    }

    enum RejectReason {
        ModelInactive,
        InsufficientEscrow,
        InsufficientAllowance
    }

    uint16 public constant BPS = 10_000;

    IERC20 public immutable token;
    ModelRegistry public immutable models;
    AttributionSettlement public immutable settlement;

    address public treasury;
    uint16 public ownerBps;
    uint16 public treasuryBps;
    uint64 public settlementInterval;
    uint64 public withdrawalDelay;

    mapping(address payer => Escrow) private _escrow;
    mapping(address payer => uint64) public withdrawalAvailableAt;
    mapping(address payer => mapping(address operator => uint256)) public operatorAllowance;
    mapping(address operator => bool) public isOperator;
    mapping(address operator => uint256) public lastBatch;
    mapping(address modelOwner => uint256) public ownerEarnings;

    event Deposited(address indexed payer, address indexed from, uint256 amount, uint256 balance);
    event OperatorApproved(address indexed payer, address indexed operator, uint256 allowance);
    event WithdrawalRequested(address indexed payer, uint256 amount, uint64 availableAt);
    event Withdrawn(address indexed payer, uint256 amount, uint256 balance);
    /// @notice One inference was billed: `fee` = owner + pool + treasury amounts exactly; the pool amount
    /// belongs to attribution epoch `epoch`; `modelOwner` was credited the owner amount. The operator is
    /// the one in the same transaction's {BatchSettled}.
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
    /// @notice One inference could not be billed; nothing moved for it.
    event InferenceRejected(
        bytes32 indexed requestId,
        uint256 indexed modelId,
        address indexed payer,
        address operator,
        uint256 batchNumber,
        uint256 fee,
        RejectReason reason
    );
    /// @notice A batch was settled: totals of its settled items (rejected ones excluded).
    event BatchSettled(
        address indexed operator,
        uint256 indexed batchNumber,
        uint256 epoch,
        uint256 settledCount,
        uint256 rejectedCount,
        uint256 feeTotal,
        uint256 ownerTotal,
        uint256 poolTotal,
        uint256 treasuryTotal
    );
    event OwnerEarningsWithdrawn(address indexed owner, uint256 amount);
    event OperatorSet(address indexed operator, bool enabled);
    event FeeSharesSet(uint16 ownerBps, uint16 poolBps, uint16 treasuryBps);
    event TreasurySet(address treasury);
    event DelaysSet(uint64 settlementInterval, uint64 withdrawalDelay);

    error NotOperator(address account);
    error BatchOutOfOrder(address operator, uint256 expected, uint256 got);
    error EmptyBatch();
    error ZeroAmount();
    error InvalidShares(uint256 ownerBps, uint256 poolBps, uint256 treasuryBps);
    error WithdrawalDelayTooShort(uint64 withdrawalDelay, uint64 settlementInterval);
    error NoWithdrawalRequested(address payer);
    error WithdrawalNotReady(address payer, uint64 availableAt);
    error InsufficientBalance(address payer, uint256 balance, uint256 requested);
    error ZeroAddress();

    constructor(
        IERC20 token_,
        ModelRegistry models_,
        AttributionSettlement settlement_,
        address governance,
        address treasury_,
        uint16 ownerBps_,
        uint16 poolBps_,
        uint16 treasuryBps_,
        uint64 settlementInterval_,
        uint64 withdrawalDelay_
    ) Ownable(governance) {
        token = token_;
        models = models_;
        settlement = settlement_;
        _setTreasury(treasury_);
        _setFeeShares(ownerBps_, poolBps_, treasuryBps_);
        _setDelays(settlementInterval_, withdrawalDelay_);
    }

    // ------------------------------------------------------------------ payers

    /// @notice Adds `amount` wei from the caller to `payer`'s escrow. Emits {Deposited}.
    function depositFor(address payer, uint256 amount) public {
        if (amount == 0) revert ZeroAmount();
        if (payer == address(0)) revert ZeroAddress();
        token.safeTransferFrom(msg.sender, address(this), amount);
        Escrow storage e = _escrow[payer];
        e.balance += SafeCast.toUint128(amount);
        emit Deposited(payer, msg.sender, amount, e.balance);
    }

    /// @notice Adds `amount` wei to the caller's escrow. Emits {Deposited}.
    function deposit(uint256 amount) external {
        depositFor(msg.sender, amount);
    }

    /// @notice Deposits with an EIP-2612 permit instead of a prior approve. Emits {Deposited}.
    function depositWithPermit(uint256 amount, uint256 deadline, uint8 v, bytes32 r, bytes32 s) external {
        // A permit front-run by someone else still leaves the allowance in place, so ignore its failure.
        try IERC20Permit(address(token)).permit(msg.sender, address(this), amount, deadline, v, r, s) {} catch {}
        depositFor(msg.sender, amount);
    }

    /// @notice Lets `operator` bill up to `allowance` wei of the caller's escrow (max uint = unlimited).
    /// Emits {OperatorApproved}.
    function approveOperator(address operator, uint256 allowance) external {
        operatorAllowance[msg.sender][operator] = allowance;
        emit OperatorApproved(msg.sender, operator, allowance);
    }

    /// @notice Starts a withdrawal of `amount` wei; it can be taken after `withdrawalDelay`, and until then
    /// the funds still pay for usage served before the request. Replaces any earlier request.
    /// Emits {WithdrawalRequested}.
    function requestWithdrawal(uint256 amount) external {
        if (amount == 0) revert ZeroAmount();
        Escrow storage e = _escrow[msg.sender];
        if (amount > e.balance) revert InsufficientBalance(msg.sender, e.balance, amount);
        // Fits: amount <= balance, a uint128.
        e.pendingWithdrawal = uint128(amount);
        uint64 at = uint64(block.timestamp) + withdrawalDelay;
        withdrawalAvailableAt[msg.sender] = at;
        emit WithdrawalRequested(msg.sender, amount, at);
    }

    /// @notice Pays out the requested withdrawal (or what is left of the escrow, if less). Emits {Withdrawn}.
    function withdraw() external {
        Escrow storage e = _escrow[msg.sender];
        uint256 requested = e.pendingWithdrawal;
        if (requested == 0) revert NoWithdrawalRequested(msg.sender);
        uint64 at = withdrawalAvailableAt[msg.sender];
        if (block.timestamp < at) revert WithdrawalNotReady(msg.sender, at);
        uint256 amount = requested < e.balance ? requested : e.balance;
        // Fits: amount <= balance, a uint128.
        e.balance -= uint128(amount);
        e.pendingWithdrawal = 0;
        token.safeTransfer(msg.sender, amount);
        emit Withdrawn(msg.sender, amount, e.balance);
    }

    // -------------------------------------------------------------- operators

    /// @notice Bills a batch of inferences. `batchNumber` must be the caller's last batch number + 1.
    /// Emits one {InferenceSettled} or {InferenceRejected} per item, then {BatchSettled}.
    function settle(uint256 batchNumber, Item[] calldata items) external {
        if (!isOperator[msg.sender]) revert NotOperator(msg.sender);
        uint256 expected = lastBatch[msg.sender] + 1;
        if (batchNumber != expected) revert BatchOutOfOrder(msg.sender, expected, batchNumber);
        if (items.length == 0) revert EmptyBatch();
        lastBatch[msg.sender] = batchNumber;

        uint256 epoch = settlement.currentEpoch();
        Totals memory t;
        t.ownerBps = ownerBps;
        t.treasuryBps = treasuryBps;
        for (uint256 i = 0; i < items.length; i++) {
            _settleOne(items[i], batchNumber, epoch, t);
        }

        if (t.treasury > 0) token.safeTransfer(treasury, t.treasury);
        if (t.pool > 0) {
            token.safeTransfer(address(settlement), t.pool);
            settlement.recordPoolFunding(epoch, t.pool);
        }
        emit BatchSettled(
            msg.sender, batchNumber, epoch, t.settled, items.length - t.settled, t.fee, t.owner, t.pool, t.treasury
        );
    }

    /// @notice Pays a model owner the fee shares credited to them. Emits {OwnerEarningsWithdrawn}.
    function withdrawOwnerEarnings() external {
        uint256 amount = ownerEarnings[msg.sender];
        if (amount == 0) revert ZeroAmount();
        ownerEarnings[msg.sender] = 0;
        token.safeTransfer(msg.sender, amount);
        emit OwnerEarningsWithdrawn(msg.sender, amount);
    }

    // -------------------------------------------------------------- governance

    /// @notice Enables or disables a serving operator (governance only). Emits {OperatorSet}.
    function setOperator(address operator, bool enabled) external onlyOwner {
        isOperator[operator] = enabled;
        emit OperatorSet(operator, enabled);
    }

    /// @notice Sets the fee split in basis points; the three must sum to 10000 (governance only).
    /// Emits {FeeSharesSet}.
    function setFeeShares(uint16 ownerBps_, uint16 poolBps_, uint16 treasuryBps_) external onlyOwner {
        _setFeeShares(ownerBps_, poolBps_, treasuryBps_);
    }

    /// @notice Sets the treasury (governance only). Emits {TreasurySet}.
    function setTreasury(address treasury_) external onlyOwner {
        _setTreasury(treasury_);
    }

    /// @notice Sets the expected settlement interval and the withdrawal delay, which must be at least
    /// one interval so that usage served before a withdrawal request can still be billed (governance only).
    /// Emits {DelaysSet}.
    function setDelays(uint64 settlementInterval_, uint64 withdrawalDelay_) external onlyOwner {
        _setDelays(settlementInterval_, withdrawalDelay_);
    }

    // ------------------------------------------------------------------- views

    function poolBps() external view returns (uint16) {
        return BPS - ownerBps - treasuryBps;
    }

    function escrowOf(address payer) external view returns (uint256 balance, uint256 pendingWithdrawal) {
        Escrow storage e = _escrow[payer];
        return (e.balance, e.pendingWithdrawal);
    }

    /// @notice The fee and its split for one inference, exactly as {settle} computes them.
    function quote(uint256 modelId, uint256 tokensIn, uint256 tokensOut)
        external
        view
        returns (uint256 fee, uint256 ownerAmount, uint256 poolAmount, uint256 treasuryAmount)
    {
        (, uint256 priceIn, uint256 priceOut,) = models.billingInfo(modelId);
        fee = (tokensIn * priceIn + tokensOut * priceOut) / 1000;
        (ownerAmount, poolAmount, treasuryAmount) = _split(fee, ownerBps, treasuryBps);
    }

    // ---------------------------------------------------------------- internal

    struct Totals {
        uint256 ownerBps;
        uint256 treasuryBps;
        uint256 settled;
        uint256 fee;
        uint256 owner;
        uint256 pool;
        uint256 treasury;
    }

    function _settleOne(Item calldata it, uint256 batchNumber, uint256 epoch, Totals memory t) private {
        (address modelOwner, uint256 priceIn, uint256 priceOut, bool active) = models.billingInfo(it.modelId);
        uint256 fee = (uint256(it.tokensIn) * priceIn + uint256(it.tokensOut) * priceOut) / 1000;
        if (!active || modelOwner == address(0)) {
            return _reject(it, batchNumber, fee, RejectReason.ModelInactive);
        }
        Escrow storage e = _escrow[it.payer];
        if (fee > e.balance) return _reject(it, batchNumber, fee, RejectReason.InsufficientEscrow);
        mapping(address => uint256) storage allowances = operatorAllowance[it.payer];
        uint256 allowance = allowances[msg.sender];
        if (fee > allowance) return _reject(it, batchNumber, fee, RejectReason.InsufficientAllowance);

        // Cannot underflow: fee <= balance and fee <= allowance were checked above.
        unchecked {
            e.balance -= uint128(fee);
            if (allowance != type(uint256).max) allowances[msg.sender] = allowance - fee;
        }
        (uint256 ownerAmount, uint256 poolAmount, uint256 treasuryAmount) = _split(fee, t.ownerBps, t.treasuryBps);
        if (ownerAmount > 0) ownerEarnings[modelOwner] += ownerAmount;
        t.settled += 1;
        t.fee += fee;
        t.owner += ownerAmount;
        t.pool += poolAmount;
        t.treasury += treasuryAmount;
        _emitSettled(it, batchNumber, epoch, modelOwner, fee, ownerAmount, poolAmount, treasuryAmount);
    }

    /// Emits {InferenceSettled}. Written in assembly because the event's twelve fields do not fit the
    /// legacy code generator's stack; the item's fields were already validated when {_settleOne} read them.
    function _emitSettled(
        Item calldata it,
        uint256 batchNumber,
        uint256 epoch,
        address modelOwner,
        uint256 fee,
        uint256 ownerAmount,
        uint256 poolAmount,
        uint256 treasuryAmount
    ) private {
        bytes32 topic0 = InferenceSettled.selector;
        assembly ("memory-safe") {
            let p := mload(0x40)
            mstore(p, epoch)
            mstore(add(p, 0x20), batchNumber)
            mstore(add(p, 0x40), modelOwner)
            mstore(add(p, 0x60), and(calldataload(add(it, 0x60)), 0xffffffff)) // tokensIn
            mstore(add(p, 0x80), and(calldataload(add(it, 0x80)), 0xffffffff)) // tokensOut
            mstore(add(p, 0xa0), fee)
            mstore(add(p, 0xc0), ownerAmount)
            mstore(add(p, 0xe0), poolAmount)
            mstore(add(p, 0x100), treasuryAmount)
            log4(
                p,
                0x120,
                topic0,
                calldataload(it), // requestId
                and(calldataload(add(it, 0x40)), 0xffffffffffffffff), // modelId
                and(calldataload(add(it, 0x20)), 0xffffffffffffffffffffffffffffffffffffffff) // payer
            )
        }
    }

    function _reject(Item calldata it, uint256 batchNumber, uint256 fee, RejectReason reason) private {
        emit InferenceRejected(it.requestId, it.modelId, it.payer, msg.sender, batchNumber, fee, reason);
    }

    function _split(uint256 fee, uint256 ownerBps_, uint256 treasuryBps_)
        private
        pure
        returns (uint256 ownerAmount, uint256 poolAmount, uint256 treasuryAmount)
    {
        ownerAmount = fee * ownerBps_ / BPS;
        treasuryAmount = fee * treasuryBps_ / BPS;
        // Cannot underflow: ownerBps + treasuryBps <= 10000, so the two floors sum to at most fee.
        unchecked {
            poolAmount = fee - ownerAmount - treasuryAmount;
        }
    }

    function _setFeeShares(uint16 ownerBps_, uint16 poolBps_, uint16 treasuryBps_) private {
        if (uint256(ownerBps_) + poolBps_ + treasuryBps_ != BPS) {
            revert InvalidShares(ownerBps_, poolBps_, treasuryBps_);
        }
        ownerBps = ownerBps_;
        treasuryBps = treasuryBps_;
        emit FeeSharesSet(ownerBps_, poolBps_, treasuryBps_);
    }

    function _setTreasury(address treasury_) private {
        if (treasury_ == address(0)) revert ZeroAddress();
        treasury = treasury_;
        emit TreasurySet(treasury_);
    }

    function _setDelays(uint64 settlementInterval_, uint64 withdrawalDelay_) private {
        if (withdrawalDelay_ < settlementInterval_) {
            revert WithdrawalDelayTooShort(withdrawalDelay_, settlementInterval_);
        }
        settlementInterval = settlementInterval_;
        withdrawalDelay = withdrawalDelay_;
        emit DelaysSet(settlementInterval_, withdrawalDelay_);
    }
}
