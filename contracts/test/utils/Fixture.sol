// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Test} from "forge-std/Test.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {OpenToken} from "../../src/OpenToken.sol";
import {DatanetRegistry} from "../../src/DatanetRegistry.sol";
import {ModelRegistry} from "../../src/ModelRegistry.sol";
import {InferenceRouter} from "../../src/InferenceRouter.sol";
import {AttributionSettlement} from "../../src/AttributionSettlement.sol";
import {MerkleHelper} from "./MerkleHelper.sol";

/// Cheatcodes newer than the npm forge-std 1.1.2 `Vm` interface declares.
interface VmExtra {
    function expectRevert(bytes calldata revertData) external;
    function expectEmit() external;
    function expectEmit(address emitter) external;
    function startPrank(address sender) external;
    function stopPrank() external;
    function pauseGasMetering() external;
    function resumeGasMetering() external;
    function snapshotGasLastCall(string calldata name) external returns (uint256 gasUsed);
}

/// The whole protocol deployed with an EOA-like `gov` as owner of every parameter (the governance
/// test deploys the real Governor + timelock instead), funded payers, and three attribution signers.
abstract contract Fixture is Test {
    VmExtra internal constant vmx = VmExtra(address(uint160(uint256(keccak256("hevm cheat code")))));

    uint256 internal constant SUPPLY = 1_000_000_000 ether;
    uint64 internal constant EPOCH_LENGTH = 1 days;
    uint64 internal constant DISPUTE_WINDOW = 6 hours;
    uint64 internal constant STAKE_COOLDOWN = 3 days;
    uint64 internal constant SETTLEMENT_INTERVAL = 1 hours;
    uint64 internal constant WITHDRAWAL_DELAY = 2 hours;
    uint16 internal constant OWNER_BPS = 5_000;
    uint16 internal constant POOL_BPS = 4_000;
    uint16 internal constant TREASURY_BPS = 1_000;

    address internal gov = address(0x60F);
    address internal treasury = address(0x7EA5);
    address internal operator = address(0x0BE7);
    address internal attributor = address(0xA77);
    address internal guardian = address(0x6A7D);
    address internal holder = address(0x401D);

    uint256[] internal signerKeys;
    address[] internal signerAddrs; // sorted ascending

    OpenToken internal token;
    DatanetRegistry internal datanets;
    ModelRegistry internal models;
    InferenceRouter internal router;
    AttributionSettlement internal settlement;

    function setUp() public virtual {
        token = new OpenToken(holder, SUPPLY);
        datanets = new DatanetRegistry(IERC20(address(token)), gov, treasury, STAKE_COOLDOWN);
        models = new ModelRegistry(datanets, IERC20(address(token)), gov, treasury);
        settlement = new AttributionSettlement(IERC20(address(token)), gov, EPOCH_LENGTH, DISPUTE_WINDOW);
        router = new InferenceRouter(
            IERC20(address(token)),
            models,
            settlement,
            gov,
            treasury,
            OWNER_BPS,
            POOL_BPS,
            TREASURY_BPS,
            SETTLEMENT_INTERVAL,
            WITHDRAWAL_DELAY
        );
        signerKeys.push(0xA11CE);
        signerKeys.push(0xB0B);
        signerKeys.push(0xCA401);
        _sortSigners();
        vmx.startPrank(gov);
        settlement.setRouter(address(router));
        settlement.setGuardian(guardian);
        settlement.setAttributor(attributor, true);
        settlement.setSigners(signerAddrs, 2);
        router.setOperator(operator, true);
        vmx.stopPrank();
    }

    function _sortSigners() private {
        uint256 n = signerKeys.length;
        for (uint256 i = 0; i < n; i++) {
            for (uint256 j = i + 1; j < n; j++) {
                if (vm.addr(signerKeys[j]) < vm.addr(signerKeys[i])) {
                    (signerKeys[i], signerKeys[j]) = (signerKeys[j], signerKeys[i]);
                }
            }
        }
        for (uint256 i = 0; i < n; i++) {
            signerAddrs.push(vm.addr(signerKeys[i]));
        }
    }

    /// Gives `to` `amount` OPEN from the holder.
    function _fund(address to, uint256 amount) internal {
        vm.prank(holder);
        token.transfer(to, amount);
    }

    /// Funds, approves and deposits `amount` into `payer`'s escrow, with an unlimited operator allowance.
    function _escrow(address payer, uint256 amount) internal {
        _fund(payer, amount);
        vmx.startPrank(payer);
        token.approve(address(router), amount);
        router.deposit(amount);
        router.approveOperator(operator, type(uint256).max);
        vmx.stopPrank();
    }

    /// Creates an open datanet owned by `owner_` with one accepted contribution and a published version.
    function _datanetWithVersion(address owner_) internal returns (uint256 datanetId) {
        vm.prank(owner_);
        datanetId = datanets.createDatanet("ipfs://meta", "text", "CC-BY-4.0", 0, false);
        vm.prank(owner_);
        uint256 cid = datanets.contribute(datanetId, keccak256("rows"), 100, "file://rows", 0);
        vm.prank(owner_);
        datanets.review(cid, true, 9000);
        vm.prank(owner_);
        datanets.publishVersion(datanetId, keccak256("v1"), 1, "file://v1");
    }

    /// Registers a model priced `priceIn`/`priceOut` wei per 1k tokens, trained on `datanetId` v1.
    function _model(address owner_, uint256 datanetId, uint96 priceIn, uint96 priceOut)
        internal
        returns (uint256 modelId)
    {
        ModelRegistry.DatanetVersion[] memory used = new ModelRegistry.DatanetVersion[](1);
        used[0] = ModelRegistry.DatanetVersion({datanetId: uint64(datanetId), version: 1});
        vm.prank(owner_);
        (modelId,) = models.registerModel(
            ModelRegistry.Registration({
                name: "m",
                baseModel: "tiny-gpt",
                metadataURI: "file://model",
                priceIn: priceIn,
                priceOut: priceOut,
                adapterHash: keccak256(abi.encode("adapter", modelId)),
                adapterURI: "file://adapter",
                datanets: used,
                manifestHash: keccak256("manifest")
            })
        );
    }

    /// Signatures over `b` from the first `count` signers, ordered by signer address.
    function _sign(AttributionSettlement.PayoutBatch memory b, uint256 count) internal returns (bytes[] memory sigs) {
        bytes32 digest = settlement.batchDigest(b);
        sigs = new bytes[](count);
        for (uint256 i = 0; i < count; i++) {
            (uint8 v, bytes32 r, bytes32 s) = vm.sign(signerKeys[i], digest);
            sigs[i] = abi.encodePacked(r, s, v);
        }
    }

    /// Moves time to the start of the epoch after `epoch`, so `epoch` has ended.
    function _endEpoch(uint256 epoch) internal {
        vm.warp(settlement.epochEnd(epoch));
    }

    /// The leaf hash that OpenZeppelin's StandardMerkleTree (merkle-tree library) uses for (address, uint256).
    function _leaf(address account, uint256 cumulative) internal pure returns (bytes32) {
        return MerkleHelper.leaf(account, cumulative);
    }
}
