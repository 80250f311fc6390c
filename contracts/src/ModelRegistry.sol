// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {DatanetRegistry} from "./DatanetRegistry.sol";

/// @title Models fine-tuned from datanets: their versions (LoRA adapters), training runs and prices.
/// @notice A training run records which datanet versions it used and the hash of its training manifest;
/// recording one is refused unless the caller may train on every datanet it names. The router reads
/// {billingInfo} to price each inference.
contract ModelRegistry is Ownable {
    using SafeERC20 for IERC20;

    /// A datanet version used by a training run.
    struct DatanetVersion {
        uint64 datanetId;
        uint64 version;
    }

    struct Model {
        address owner;
        uint96 priceIn; // wei per 1000 input tokens
        uint96 priceOut; // wei per 1000 output tokens
        uint64 versionCount;
        bool active;
    }

    struct Registration {
        string name;
        string baseModel;
        string metadataURI;
        uint96 priceIn;
        uint96 priceOut;
        bytes32 adapterHash;
        string adapterURI;
        DatanetVersion[] datanets;
        bytes32 manifestHash;
    }

    DatanetRegistry public immutable datanets;
    IERC20 public immutable token;
    address public treasury;
    uint256 public registrationFee;
    uint256 public modelCount;
    uint256 public trainingRunCount;

    mapping(uint256 modelId => Model) private _models;
    mapping(uint256 runId => uint256 modelId) public runModel;

    /// @notice A model was registered; its first version and training run follow in the same transaction.
    event ModelRegistered(
        uint256 indexed modelId,
        address indexed owner,
        string name,
        string baseModel,
        string metadataURI,
        uint256 priceIn,
        uint256 priceOut,
        uint256 feePaid
    );
    /// @notice A training run of `modelId` used these datanet versions; `manifestHash` is the hash of its
    /// training manifest (rows used, hyperparameters, seed, loss curve).
    event TrainingRunRecorded(
        uint256 indexed runId,
        uint256 indexed modelId,
        address indexed submitter,
        uint64[] datanetIds,
        uint64[] datanetVersions,
        bytes32 manifestHash
    );
    /// @notice A new version (adapter) of a model, produced by training run `runId`.
    event ModelVersionPublished(
        uint256 indexed modelId, uint256 indexed version, uint256 indexed runId, bytes32 adapterHash, string adapterURI
    );
    event ModelPricesSet(uint256 indexed modelId, uint256 priceIn, uint256 priceOut);
    event ModelActiveSet(uint256 indexed modelId, bool active);
    event ModelOwnershipTransferred(uint256 indexed modelId, address indexed previousOwner, address indexed newOwner);
    event TreasurySet(address treasury);
    event RegistrationFeeSet(uint256 fee);

    error ModelNotFound(uint256 modelId);
    error NotModelOwner(uint256 modelId, address account);
    error NoDatanetAccess(uint256 datanetId, address account);
    error DatanetVersionNotFound(uint256 datanetId, uint256 version);
    error NoDatanets();
    error RunNotOfModel(uint256 runId, uint256 modelId);
    error EmptyAdapterHash();
    error ZeroAddress();

    constructor(DatanetRegistry datanets_, IERC20 token_, address governance, address treasury_)
        Ownable(governance)
    {
        if (treasury_ == address(0)) revert ZeroAddress();
        datanets = datanets_;
        token = token_;
        treasury = treasury_;
        emit TreasurySet(treasury_);
    }

    /// @notice Registers a model owned by the caller with its first training run and version, paying the
    /// registration fee (if any). Refused without access to every permissioned datanet named.
    /// Emits {ModelRegistered}, {TrainingRunRecorded} and {ModelVersionPublished}.
    function registerModel(Registration calldata r) external returns (uint256 modelId, uint256 runId) {
        uint256 fee = registrationFee;
        if (fee > 0) token.safeTransferFrom(msg.sender, treasury, fee);
        modelId = ++modelCount;
        _models[modelId] =
            Model({owner: msg.sender, priceIn: r.priceIn, priceOut: r.priceOut, versionCount: 0, active: true});
        emit ModelRegistered(modelId, msg.sender, r.name, r.baseModel, r.metadataURI, r.priceIn, r.priceOut, fee);
        runId = _recordRun(modelId, r.datanets, r.manifestHash);
        _publish(modelId, runId, r.adapterHash, r.adapterURI);
    }

    /// @notice Records a training run of the caller's model. Emits {TrainingRunRecorded}.
    function recordTrainingRun(uint256 modelId, DatanetVersion[] calldata used, bytes32 manifestHash)
        external
        returns (uint256 runId)
    {
        _ownedModel(modelId);
        runId = _recordRun(modelId, used, manifestHash);
    }

    /// @notice Publishes a new version of the caller's model from one of its training runs.
    /// Emits {ModelVersionPublished}.
    function publishVersion(uint256 modelId, uint256 runId, bytes32 adapterHash, string calldata adapterURI)
        external
        returns (uint256 version)
    {
        _ownedModel(modelId);
        if (runModel[runId] != modelId) revert RunNotOfModel(runId, modelId);
        version = _publish(modelId, runId, adapterHash, adapterURI);
    }

    /// @notice Sets the model's prices in wei per 1000 input and output tokens. Emits {ModelPricesSet}.
    function setPrices(uint256 modelId, uint96 priceIn, uint96 priceOut) external {
        Model storage m = _ownedModel(modelId);
        m.priceIn = priceIn;
        m.priceOut = priceOut;
        emit ModelPricesSet(modelId, priceIn, priceOut);
    }

    /// @notice Stops or resumes billing for a model; the router rejects inferences of inactive models.
    /// Emits {ModelActiveSet}.
    function setActive(uint256 modelId, bool active) external {
        _ownedModel(modelId).active = active;
        emit ModelActiveSet(modelId, active);
    }

    /// @notice Hands a model, and its future fee share, to a new owner. Emits {ModelOwnershipTransferred}.
    function transferModel(uint256 modelId, address newOwner) external {
        Model storage m = _ownedModel(modelId);
        if (newOwner == address(0)) revert ZeroAddress();
        emit ModelOwnershipTransferred(modelId, m.owner, newOwner);
        m.owner = newOwner;
    }

    /// @notice Sets where registration fees go (governance only). Emits {TreasurySet}.
    function setTreasury(address treasury_) external onlyOwner {
        if (treasury_ == address(0)) revert ZeroAddress();
        treasury = treasury_;
        emit TreasurySet(treasury_);
    }

    /// @notice Sets the fee, in wei, for registering a model (governance only). Emits {RegistrationFeeSet}.
    function setRegistrationFee(uint256 fee) external onlyOwner {
        registrationFee = fee;
        emit RegistrationFeeSet(fee);
    }

    /// @notice What the router needs to bill an inference, in one call.
    function billingInfo(uint256 modelId)
        external
        view
        returns (address owner_, uint256 priceIn, uint256 priceOut, bool active)
    {
        Model storage m = _models[modelId];
        return (m.owner, m.priceIn, m.priceOut, m.active);
    }

    function getModel(uint256 modelId) external view returns (Model memory) {
        return _model(modelId);
    }

    function _recordRun(uint256 modelId, DatanetVersion[] calldata used, bytes32 manifestHash)
        private
        returns (uint256 runId)
    {
        uint256 n = used.length;
        if (n == 0) revert NoDatanets();
        uint64[] memory ids = new uint64[](n);
        uint64[] memory versions = new uint64[](n);
        for (uint256 i = 0; i < n; i++) {
            DatanetVersion calldata dv = used[i];
            if (!datanets.hasAccess(dv.datanetId, msg.sender)) revert NoDatanetAccess(dv.datanetId, msg.sender);
            if (datanets.versionRoot(dv.datanetId, dv.version) == bytes32(0)) {
                revert DatanetVersionNotFound(dv.datanetId, dv.version);
            }
            ids[i] = dv.datanetId;
            versions[i] = dv.version;
        }
        runId = ++trainingRunCount;
        runModel[runId] = modelId;
        emit TrainingRunRecorded(runId, modelId, msg.sender, ids, versions, manifestHash);
    }

    function _publish(uint256 modelId, uint256 runId, bytes32 adapterHash, string calldata adapterURI)
        private
        returns (uint256 version)
    {
        if (adapterHash == bytes32(0)) revert EmptyAdapterHash();
        version = ++_models[modelId].versionCount;
        emit ModelVersionPublished(modelId, version, runId, adapterHash, adapterURI);
    }

    function _model(uint256 modelId) private view returns (Model storage m) {
        m = _models[modelId];
        if (m.owner == address(0)) revert ModelNotFound(modelId);
    }

    function _ownedModel(uint256 modelId) private view returns (Model storage m) {
        m = _model(modelId);
        if (m.owner != msg.sender) revert NotModelOwner(modelId, msg.sender);
    }
}
