// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";

/// @title Datanets: community datasets that contributors stake on and curators review.
/// @notice The owner of this contract is the governance timelock; it sets the treasury, the
/// creation fee and the stake cooldown, and may slash. Each datanet has its own owner and curators.
/// Every state change emits an event carrying all the fields needed to rebuild it off-chain.
contract DatanetRegistry is Ownable {
    using SafeERC20 for IERC20;

    enum Status {
        None,
        Pending,
        Accepted,
        Rejected
    }

    struct Datanet {
        address owner;
        uint64 versionCount;
        bool permissioned;
        uint128 requiredStake;
    }

    /// Two storage slots: the contribution's content hash, size and URI live only in the event.
    struct Contribution {
        address contributor;
        uint64 datanetId;
        Status status;
        uint16 quality;
        uint128 stake;
        uint64 reviewedAt;
    }

    /// Quality scores are basis points: 0 (worst) to 10000 (best).
    uint16 public constant MAX_QUALITY = 10_000;

    IERC20 public immutable token;
    address public treasury;
    uint256 public creationFee;
    uint64 public stakeCooldown;
    uint256 public datanetCount;
    uint256 public contributionCount;

    mapping(uint256 datanetId => Datanet) private _datanets;
    mapping(uint256 contributionId => Contribution) private _contributions;
    mapping(uint256 datanetId => mapping(address account => bool)) public isCurator;
    mapping(uint256 datanetId => mapping(address account => bool)) private _granted;
    mapping(uint256 datanetId => mapping(uint256 version => bytes32 root)) public versionRoot;

    /// @notice A datanet was created. `requiredStake` is the minimum stake per contribution, in wei.
    event DatanetCreated(
        uint256 indexed datanetId,
        address indexed owner,
        string metadataURI,
        string modality,
        string license,
        uint256 requiredStake,
        bool permissioned,
        uint256 feePaid
    );
    event DatanetOwnershipTransferred(uint256 indexed datanetId, address indexed previousOwner, address indexed newOwner);
    event CuratorSet(uint256 indexed datanetId, address indexed curator, bool enabled);
    /// @notice A contribution was submitted with `stake` wei locked; it starts Pending.
    event ContributionSubmitted(
        uint256 indexed contributionId,
        uint256 indexed datanetId,
        address indexed contributor,
        bytes32 contentHash,
        uint256 size,
        string uri,
        uint256 stake
    );
    /// @notice A curator accepted or rejected a pending contribution with a quality score (basis points).
    event ContributionReviewed(
        uint256 indexed contributionId,
        uint256 indexed datanetId,
        address indexed reviewer,
        bool accepted,
        uint16 quality,
        uint64 reviewedAt
    );
    /// @notice A version of a datanet was published: `root` is the Merkle root of its accepted contributions.
    event DatanetVersionPublished(
        uint256 indexed datanetId, uint256 indexed version, bytes32 root, uint256 contributionCount, string uri
    );
    event AccessChanged(uint256 indexed datanetId, address indexed account, bool granted);
    /// @notice `amount` wei of a contribution's stake went to the treasury.
    event ContributionSlashed(
        uint256 indexed contributionId,
        uint256 indexed datanetId,
        address indexed by,
        uint256 amount,
        uint256 remainingStake,
        address treasury,
        string reason
    );
    event StakeWithdrawn(uint256 indexed contributionId, address indexed contributor, uint256 amount);
    event TreasurySet(address treasury);
    event CreationFeeSet(uint256 fee);
    event StakeCooldownSet(uint64 cooldown);

    error DatanetNotFound(uint256 datanetId);
    error ContributionNotFound(uint256 contributionId);
    error NotDatanetOwner(uint256 datanetId, address account);
    error NotCurator(uint256 datanetId, address account);
    error NotContributor(uint256 contributionId, address account);
    error StakeTooLow(uint256 stake, uint256 required);
    error AlreadyReviewed(uint256 contributionId, Status status);
    error NotReviewed(uint256 contributionId);
    error QualityOutOfRange(uint16 quality);
    error StakeLocked(uint256 contributionId, uint256 unlocksAt);
    error SlashTooLarge(uint256 contributionId, uint256 amount, uint256 stake);
    error NothingToWithdraw(uint256 contributionId);
    error ZeroAddress();
    error EmptyContentHash();

    /// @param token_ the OPEN token
    /// @param governance the timelock that owns the parameters
    /// @param treasury_ receives fees and slashed stake
    /// @param stakeCooldown_ seconds after review before a contributor may withdraw stake
    constructor(IERC20 token_, address governance, address treasury_, uint64 stakeCooldown_) Ownable(governance) {
        if (treasury_ == address(0)) revert ZeroAddress();
        token = token_;
        treasury = treasury_;
        stakeCooldown = stakeCooldown_;
        emit TreasurySet(treasury_);
        emit StakeCooldownSet(stakeCooldown_);
    }

    // ---------------------------------------------------------------- datanets

    /// @notice Creates a datanet owned by the caller, paying the creation fee (if any) to the treasury.
    /// @param permissioned when true, only the owner and granted builders may train models on it
    /// @return datanetId the new datanet's id (1, 2, 3…). Emits {DatanetCreated}.
    function createDatanet(
        string calldata metadataURI,
        string calldata modality,
        string calldata license,
        uint128 requiredStake,
        bool permissioned
    ) external returns (uint256 datanetId) {
        uint256 fee = creationFee;
        if (fee > 0) token.safeTransferFrom(msg.sender, treasury, fee);
        datanetId = ++datanetCount;
        _datanets[datanetId] =
            Datanet({owner: msg.sender, versionCount: 0, permissioned: permissioned, requiredStake: requiredStake});
        emit DatanetCreated(datanetId, msg.sender, metadataURI, modality, license, requiredStake, permissioned, fee);
    }

    /// @notice Hands a datanet to a new owner. Emits {DatanetOwnershipTransferred}.
    function transferDatanet(uint256 datanetId, address newOwner) external {
        Datanet storage d = _ownedDatanet(datanetId);
        if (newOwner == address(0)) revert ZeroAddress();
        emit DatanetOwnershipTransferred(datanetId, d.owner, newOwner);
        d.owner = newOwner;
    }

    /// @notice Adds or removes a curator of the datanet (owner only). Emits {CuratorSet}.
    function setCurator(uint256 datanetId, address curator, bool enabled) external {
        _ownedDatanet(datanetId);
        isCurator[datanetId][curator] = enabled;
        emit CuratorSet(datanetId, curator, enabled);
    }

    /// @notice Grants or revokes a model builder's access to a permissioned datanet (owner only).
    /// Emits {AccessChanged}.
    function setAccess(uint256 datanetId, address account, bool granted) external {
        _ownedDatanet(datanetId);
        _granted[datanetId][account] = granted;
        emit AccessChanged(datanetId, account, granted);
    }

    /// @notice Publishes the next version of a datanet: the Merkle root of its accepted contributions,
    /// computed off-chain by `schema/`. Owner only. Emits {DatanetVersionPublished}.
    /// @return version the new version number (1, 2, 3…)
    function publishVersion(uint256 datanetId, bytes32 root, uint256 contributionCount_, string calldata uri)
        external
        returns (uint256 version)
    {
        Datanet storage d = _ownedDatanet(datanetId);
        if (root == bytes32(0)) revert EmptyContentHash();
        version = ++d.versionCount;
        versionRoot[datanetId][version] = root;
        emit DatanetVersionPublished(datanetId, version, root, contributionCount_, uri);
    }

    // ----------------------------------------------------------- contributions

    /// @notice Submits a contribution of `size` bytes whose rows hash to `contentHash` (the Merkle root
    /// of its row hashes), locking `stake` wei of OPEN (at least the datanet's required stake).
    /// @return contributionId the new contribution's id. Emits {ContributionSubmitted}.
    function contribute(uint256 datanetId, bytes32 contentHash, uint64 size, string calldata uri, uint128 stake)
        external
        returns (uint256 contributionId)
    {
        Datanet storage d = _datanet(datanetId);
        if (contentHash == bytes32(0)) revert EmptyContentHash();
        if (stake < d.requiredStake) revert StakeTooLow(stake, d.requiredStake);
        if (stake > 0) token.safeTransferFrom(msg.sender, address(this), stake);
        contributionId = ++contributionCount;
        _contributions[contributionId] = Contribution({
            contributor: msg.sender,
            datanetId: uint64(datanetId),
            status: Status.Pending,
            quality: 0,
            stake: stake,
            reviewedAt: 0
        });
        emit ContributionSubmitted(contributionId, datanetId, msg.sender, contentHash, size, uri, stake);
    }

    /// @notice Accepts or rejects a pending contribution with a quality score in basis points.
    /// Datanet owner or curator only. Emits {ContributionReviewed}.
    function review(uint256 contributionId, bool accepted, uint16 quality) external {
        Contribution storage c = _contribution(contributionId);
        uint256 datanetId = c.datanetId;
        if (msg.sender != _datanets[datanetId].owner && !isCurator[datanetId][msg.sender]) {
            revert NotCurator(datanetId, msg.sender);
        }
        if (c.status != Status.Pending) revert AlreadyReviewed(contributionId, c.status);
        if (quality > MAX_QUALITY) revert QualityOutOfRange(quality);
        c.status = accepted ? Status.Accepted : Status.Rejected;
        c.quality = quality;
        c.reviewedAt = uint64(block.timestamp);
        emit ContributionReviewed(contributionId, datanetId, msg.sender, accepted, quality, uint64(block.timestamp));
    }

    /// @notice Sends `amount` wei of a contribution's stake to the treasury. Datanet owner, curator or
    /// governance only. Emits {ContributionSlashed}.
    function slash(uint256 contributionId, uint128 amount, string calldata reason) external {
        Contribution storage c = _contribution(contributionId);
        uint256 datanetId = c.datanetId;
        if (
            msg.sender != owner() && msg.sender != _datanets[datanetId].owner && !isCurator[datanetId][msg.sender]
        ) revert NotCurator(datanetId, msg.sender);
        if (amount > c.stake) revert SlashTooLarge(contributionId, amount, c.stake);
        // Cannot underflow: amount <= c.stake was checked just above.
        unchecked {
            c.stake -= amount;
        }
        address to = treasury;
        token.safeTransfer(to, amount);
        emit ContributionSlashed(contributionId, datanetId, msg.sender, amount, c.stake, to, reason);
    }

    /// @notice Returns a reviewed contribution's remaining stake to its contributor once the cooldown
    /// after review has passed. Emits {StakeWithdrawn}.
    function withdrawStake(uint256 contributionId) external {
        Contribution storage c = _contribution(contributionId);
        if (msg.sender != c.contributor) revert NotContributor(contributionId, msg.sender);
        if (c.status == Status.Pending) revert NotReviewed(contributionId);
        uint256 unlocksAt = uint256(c.reviewedAt) + stakeCooldown;
        if (block.timestamp < unlocksAt) revert StakeLocked(contributionId, unlocksAt);
        uint256 amount = c.stake;
        if (amount == 0) revert NothingToWithdraw(contributionId);
        c.stake = 0;
        token.safeTransfer(msg.sender, amount);
        emit StakeWithdrawn(contributionId, msg.sender, amount);
    }

    // -------------------------------------------------------------- governance

    /// @notice Sets where fees and slashed stake go (governance only). Emits {TreasurySet}.
    function setTreasury(address treasury_) external onlyOwner {
        if (treasury_ == address(0)) revert ZeroAddress();
        treasury = treasury_;
        emit TreasurySet(treasury_);
    }

    /// @notice Sets the fee, in wei, for creating a datanet (governance only). Emits {CreationFeeSet}.
    function setCreationFee(uint256 fee) external onlyOwner {
        creationFee = fee;
        emit CreationFeeSet(fee);
    }

    /// @notice Sets the seconds between review and stake withdrawal (governance only). Emits {StakeCooldownSet}.
    function setStakeCooldown(uint64 cooldown) external onlyOwner {
        stakeCooldown = cooldown;
        emit StakeCooldownSet(cooldown);
    }

    // ------------------------------------------------------------------- views

    /// @notice Whether `account` may train on the datanet: anyone for an open datanet, else its owner
    /// and granted builders.
    function hasAccess(uint256 datanetId, address account) public view returns (bool) {
        Datanet storage d = _datanet(datanetId);
        return !d.permissioned || account == d.owner || _granted[datanetId][account];
    }

    function getDatanet(uint256 datanetId) external view returns (Datanet memory) {
        return _datanet(datanetId);
    }

    function getContribution(uint256 contributionId) external view returns (Contribution memory) {
        return _contribution(contributionId);
    }

    function _datanet(uint256 datanetId) private view returns (Datanet storage d) {
        d = _datanets[datanetId];
        if (d.owner == address(0)) revert DatanetNotFound(datanetId);
    }

    function _ownedDatanet(uint256 datanetId) private view returns (Datanet storage d) {
        d = _datanet(datanetId);
        if (d.owner != msg.sender) revert NotDatanetOwner(datanetId, msg.sender);
    }

    function _contribution(uint256 contributionId) private view returns (Contribution storage c) {
        c = _contributions[contributionId];
        if (c.contributor == address(0)) revert ContributionNotFound(contributionId);
    }
}
