// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title BenchEmitter (benchmark only, never deployed by the platform)
/// @notice Emits InferenceRouter's `InferenceSettled` and `BatchSettled` events, with the same
/// signatures and indexed fields, so that an indexer pointed at this contract as its InferenceRouter
/// decodes them into the real event tables. No state, no checks: it only produces log traffic.
contract BenchEmitter {
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

    /// @notice Emits `count - 1` InferenceSettled events and then one BatchSettled, like a settled
    /// batch of `count - 1` inferences. Values are derived from `batchNumber` and the item index.
    /// Emits {InferenceSettled} (count - 1 times) and {BatchSettled}.
    function settle(uint256 batchNumber, uint256 count) external {
        uint256 feeTotal;
        uint256 ownerTotal;
        uint256 treasuryTotal;
        for (uint256 i = 1; i < count; i++) {
            uint256 modelId = 1 + (i % 16);
            uint256 tokensIn = 200 + ((i * 37) % 1800);
            uint256 tokensOut = 50 + ((i * 11) % 700);
            uint256 fee = (tokensIn * modelId * 1e14 + tokensOut * modelId * 2e14) / 1000;
            uint256 ownerAmount = (fee * 5000) / 10000;
            uint256 treasuryAmount = (fee * 1000) / 10000;
            feeTotal += fee;
            ownerTotal += ownerAmount;
            treasuryTotal += treasuryAmount;
            bytes32 requestId = keccak256(abi.encode(batchNumber, i));
            address payer = address(uint160(0x1000 + (i % 64)));
            address modelOwner = address(uint160(0x2000 + modelId));
            emit InferenceSettled(
                requestId, modelId, payer, 1, batchNumber, modelOwner, tokensIn, tokensOut,
                fee, ownerAmount, fee - ownerAmount - treasuryAmount, treasuryAmount
            );
        }
        uint256 settled = count == 0 ? 0 : count - 1;
        emit BatchSettled(msg.sender, batchNumber, 1, settled, 0, feeTotal, ownerTotal, feeTotal - ownerTotal - treasuryTotal, treasuryTotal);
    }
}
