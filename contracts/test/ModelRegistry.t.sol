// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Fixture} from "./utils/Fixture.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {DatanetRegistry} from "../src/DatanetRegistry.sol";
import {ModelRegistry} from "../src/ModelRegistry.sol";

contract ModelRegistryTest is Fixture {
    address internal alice = address(0xA11CE0); // owner of the open datanet
    address internal bob = address(0xB0B0); // model builder
    address internal carol = address(0xCA201); // owner of the permissioned datanet
    address internal stranger = address(0x5757);

    bytes32 internal constant ADAPTER = keccak256("adapter-1");
    bytes32 internal constant MANIFEST = keccak256("manifest-1");

    uint256 internal openDatanet; // has versions 1 and 2
    uint256 internal closedDatanet; // permissioned, has version 1

    function setUp() public override {
        super.setUp();
        openDatanet = _datanetWithVersion(alice);
        vm.prank(alice);
        datanets.publishVersion(openDatanet, keccak256("v2"), 2, "file://v2");

        vm.prank(carol);
        closedDatanet = datanets.createDatanet("ipfs://closed", "text", "proprietary", 0, true);
        vm.prank(carol);
        datanets.publishVersion(closedDatanet, keccak256("closed-v1"), 1, "file://closed-v1");
    }

    // ----------------------------------------------------------------- helpers

    function _used1(uint256 datanetId, uint256 version) internal pure returns (ModelRegistry.DatanetVersion[] memory u) {
        u = new ModelRegistry.DatanetVersion[](1);
        u[0] = ModelRegistry.DatanetVersion({datanetId: uint64(datanetId), version: uint64(version)});
    }

    function _reg(ModelRegistry.DatanetVersion[] memory used) internal pure returns (ModelRegistry.Registration memory) {
        return ModelRegistry.Registration({
            name: "tiny-lora",
            baseModel: "tiny-gpt",
            metadataURI: "file://meta",
            priceIn: 3 ether,
            priceOut: 7 ether,
            adapterHash: ADAPTER,
            adapterURI: "file://adapter-1",
            datanets: used,
            manifestHash: MANIFEST
        });
    }

    function _register(address who, ModelRegistry.DatanetVersion[] memory used)
        internal
        returns (uint256 modelId, uint256 runId)
    {
        ModelRegistry.Registration memory r = _reg(used);
        vm.prank(who);
        (modelId, runId) = models.registerModel(r);
    }

    function _ids(uint64 a) internal pure returns (uint64[] memory x) {
        x = new uint64[](1);
        x[0] = a;
    }

    function _ids(uint64 a, uint64 b) internal pure returns (uint64[] memory x) {
        x = new uint64[](2);
        x[0] = a;
        x[1] = b;
    }

    // ------------------------------------------------------------- constructor

    function test_constructor_setsParameters() public {
        assertEq(address(models.datanets()), address(datanets));
        assertEq(address(models.token()), address(token));
        assertEq(models.owner(), gov);
        assertEq(models.treasury(), treasury);
        assertEq(models.registrationFee(), 0);
        assertEq(models.modelCount(), 0);
        assertEq(models.trainingRunCount(), 0);
    }

    function test_constructor_revertsOnZeroTreasury() public {
        vm.expectRevert(abi.encodeWithSelector(ModelRegistry.ZeroAddress.selector));
        new ModelRegistry(datanets, IERC20(address(token)), gov, address(0));
    }

    // ---------------------------------------------------------- registerModel

    function test_registerModel_emitsAllThreeEventsAndStores() public {
        ModelRegistry.Registration memory r = _reg(_used1(openDatanet, 1));
        vm.expectEmit(true, true, true, true, address(models));
        emit ModelRegistry.ModelRegistered(1, bob, "tiny-lora", "tiny-gpt", "file://meta", 3 ether, 7 ether, 0);
        vm.expectEmit(true, true, true, true, address(models));
        emit ModelRegistry.TrainingRunRecorded(1, 1, bob, _ids(uint64(openDatanet)), _ids(1), MANIFEST);
        vm.expectEmit(true, true, true, true, address(models));
        emit ModelRegistry.ModelVersionPublished(1, 1, 1, ADAPTER, "file://adapter-1");
        vm.prank(bob);
        (uint256 modelId, uint256 runId) = models.registerModel(r);

        assertEq(modelId, 1);
        assertEq(runId, 1);
        assertEq(models.modelCount(), 1);
        assertEq(models.trainingRunCount(), 1);
        assertEq(models.runModel(1), 1);
        ModelRegistry.Model memory m = models.getModel(1);
        assertEq(m.owner, bob);
        assertEq(uint256(m.priceIn), 3 ether);
        assertEq(uint256(m.priceOut), 7 ether);
        assertEq(uint256(m.versionCount), 1);
        assertTrue(m.active);
    }

    function test_registerModel_secondModelGetsNextIds() public {
        _register(bob, _used1(openDatanet, 1));
        (uint256 modelId, uint256 runId) = _register(alice, _used1(openDatanet, 2));
        assertEq(modelId, 2);
        assertEq(runId, 2);
        assertEq(models.runModel(2), 2);
        assertEq(models.getModel(2).owner, alice);
    }

    function test_registerModel_recordsSeveralDatanets() public {
        vm.prank(carol);
        datanets.setAccess(closedDatanet, bob, true);
        ModelRegistry.DatanetVersion[] memory used = new ModelRegistry.DatanetVersion[](2);
        used[0] = ModelRegistry.DatanetVersion({datanetId: uint64(openDatanet), version: 2});
        used[1] = ModelRegistry.DatanetVersion({datanetId: uint64(closedDatanet), version: 1});
        ModelRegistry.Registration memory r = _reg(used);
        vm.expectEmit(true, true, true, true, address(models));
        emit ModelRegistry.TrainingRunRecorded(
            1, 1, bob, _ids(uint64(openDatanet), uint64(closedDatanet)), _ids(2, 1), MANIFEST
        );
        vm.prank(bob);
        models.registerModel(r);
    }

    function test_registerModel_withFee_paysTreasury() public {
        vm.prank(gov);
        models.setRegistrationFee(2 ether);
        _fund(bob, 5 ether);
        vm.prank(bob);
        token.approve(address(models), 5 ether);
        uint256 treasuryBefore = token.balanceOf(treasury);

        ModelRegistry.Registration memory r = _reg(_used1(openDatanet, 1));
        vm.expectEmit(true, true, true, true, address(token));
        emit IERC20.Transfer(bob, treasury, 2 ether);
        vm.expectEmit(true, true, true, true, address(models));
        emit ModelRegistry.ModelRegistered(1, bob, "tiny-lora", "tiny-gpt", "file://meta", 3 ether, 7 ether, 2 ether);
        vm.prank(bob);
        models.registerModel(r);

        assertEq(token.balanceOf(treasury) - treasuryBefore, 2 ether, "treasury got the fee");
        assertEq(token.balanceOf(bob), 3 ether, "builder paid exactly the fee");
        assertEq(token.balanceOf(address(models)), 0);
    }

    function test_registerModel_withFee_revertsWithoutAllowance() public {
        vm.prank(gov);
        models.setRegistrationFee(2 ether);
        _fund(bob, 5 ether);
        ModelRegistry.Registration memory r = _reg(_used1(openDatanet, 1));
        vm.prank(bob);
        vm.expectRevert(
            abi.encodeWithSelector(IERC20Errors.ERC20InsufficientAllowance.selector, address(models), 0, 2 ether)
        );
        models.registerModel(r);
        assertEq(models.modelCount(), 0);
    }

    function test_registerModel_revertsWithoutAccessToPermissionedDatanet() public {
        ModelRegistry.Registration memory r = _reg(_used1(closedDatanet, 1));
        vm.prank(bob);
        vm.expectRevert(abi.encodeWithSelector(ModelRegistry.NoDatanetAccess.selector, closedDatanet, bob));
        models.registerModel(r);
        assertEq(models.modelCount(), 0);
        assertEq(models.trainingRunCount(), 0);
    }

    function test_registerModel_allowedAfterAccessGrant() public {
        vm.prank(carol);
        datanets.setAccess(closedDatanet, bob, true);
        ModelRegistry.Registration memory r = _reg(_used1(closedDatanet, 1));
        vm.expectEmit(true, true, true, true, address(models));
        emit ModelRegistry.TrainingRunRecorded(1, 1, bob, _ids(uint64(closedDatanet)), _ids(1), MANIFEST);
        vm.prank(bob);
        (uint256 modelId,) = models.registerModel(r);
        assertEq(modelId, 1);
    }

    function test_registerModel_permissionedDatanetOwnerNeedsNoGrant() public {
        (uint256 modelId,) = _register(carol, _used1(closedDatanet, 1));
        assertEq(models.getModel(modelId).owner, carol);
    }

    function test_registerModel_revertsAfterAccessRevoked() public {
        vm.prank(carol);
        datanets.setAccess(closedDatanet, bob, true);
        vm.prank(carol);
        datanets.setAccess(closedDatanet, bob, false);
        ModelRegistry.Registration memory r = _reg(_used1(closedDatanet, 1));
        vm.prank(bob);
        vm.expectRevert(abi.encodeWithSelector(ModelRegistry.NoDatanetAccess.selector, closedDatanet, bob));
        models.registerModel(r);
    }

    function test_registerModel_revertsOnUnknownDatanetVersion() public {
        ModelRegistry.Registration memory r = _reg(_used1(openDatanet, 3));
        vm.prank(bob);
        vm.expectRevert(abi.encodeWithSelector(ModelRegistry.DatanetVersionNotFound.selector, openDatanet, 3));
        models.registerModel(r);

        r = _reg(_used1(openDatanet, 0));
        vm.prank(bob);
        vm.expectRevert(abi.encodeWithSelector(ModelRegistry.DatanetVersionNotFound.selector, openDatanet, 0));
        models.registerModel(r);
    }

    function test_registerModel_revertsOnUnknownDatanet() public {
        ModelRegistry.Registration memory r = _reg(_used1(99, 1));
        vm.prank(bob);
        vm.expectRevert(abi.encodeWithSelector(DatanetRegistry.DatanetNotFound.selector, 99));
        models.registerModel(r);
    }

    function test_registerModel_revertsWithoutDatanets() public {
        ModelRegistry.Registration memory r = _reg(new ModelRegistry.DatanetVersion[](0));
        vm.prank(bob);
        vm.expectRevert(abi.encodeWithSelector(ModelRegistry.NoDatanets.selector));
        models.registerModel(r);
        assertEq(models.modelCount(), 0);
    }

    function test_registerModel_revertsOnZeroAdapterHash() public {
        ModelRegistry.Registration memory r = _reg(_used1(openDatanet, 1));
        r.adapterHash = bytes32(0);
        vm.prank(bob);
        vm.expectRevert(abi.encodeWithSelector(ModelRegistry.EmptyAdapterHash.selector));
        models.registerModel(r);
        assertEq(models.modelCount(), 0);
    }

    // ------------------------------------------------------ recordTrainingRun

    function test_recordTrainingRun_emitsAndLinksRun() public {
        (uint256 modelId,) = _register(bob, _used1(openDatanet, 1));
        ModelRegistry.DatanetVersion[] memory used = _used1(openDatanet, 2);
        vm.expectEmit(true, true, true, true, address(models));
        emit ModelRegistry.TrainingRunRecorded(2, modelId, bob, _ids(uint64(openDatanet)), _ids(2), keccak256("m2"));
        vm.prank(bob);
        uint256 runId = models.recordTrainingRun(modelId, used, keccak256("m2"));
        assertEq(runId, 2);
        assertEq(models.trainingRunCount(), 2);
        assertEq(models.runModel(2), modelId);
        assertEq(uint256(models.getModel(modelId).versionCount), 1, "recording a run publishes nothing");
    }

    function test_recordTrainingRun_revertsForNonOwner() public {
        (uint256 modelId,) = _register(bob, _used1(openDatanet, 1));
        ModelRegistry.DatanetVersion[] memory used = _used1(openDatanet, 2);
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(ModelRegistry.NotModelOwner.selector, modelId, stranger));
        models.recordTrainingRun(modelId, used, MANIFEST);
    }

    function test_recordTrainingRun_revertsForUnknownModel() public {
        ModelRegistry.DatanetVersion[] memory used = _used1(openDatanet, 1);
        vm.prank(bob);
        vm.expectRevert(abi.encodeWithSelector(ModelRegistry.ModelNotFound.selector, 8));
        models.recordTrainingRun(8, used, MANIFEST);
    }

    function test_recordTrainingRun_revertsWithoutAccess() public {
        (uint256 modelId,) = _register(bob, _used1(openDatanet, 1));
        ModelRegistry.DatanetVersion[] memory used = new ModelRegistry.DatanetVersion[](2);
        used[0] = ModelRegistry.DatanetVersion({datanetId: uint64(openDatanet), version: 1});
        used[1] = ModelRegistry.DatanetVersion({datanetId: uint64(closedDatanet), version: 1});
        vm.prank(bob);
        vm.expectRevert(abi.encodeWithSelector(ModelRegistry.NoDatanetAccess.selector, closedDatanet, bob));
        models.recordTrainingRun(modelId, used, MANIFEST);
        assertEq(models.trainingRunCount(), 1);
    }

    function test_recordTrainingRun_revertsWithoutDatanets() public {
        (uint256 modelId,) = _register(bob, _used1(openDatanet, 1));
        ModelRegistry.DatanetVersion[] memory none = new ModelRegistry.DatanetVersion[](0);
        vm.prank(bob);
        vm.expectRevert(abi.encodeWithSelector(ModelRegistry.NoDatanets.selector));
        models.recordTrainingRun(modelId, none, MANIFEST);
    }

    function test_recordTrainingRun_revertsOnUnknownVersion() public {
        (uint256 modelId,) = _register(bob, _used1(openDatanet, 1));
        ModelRegistry.DatanetVersion[] memory used = _used1(openDatanet, 5);
        vm.prank(bob);
        vm.expectRevert(abi.encodeWithSelector(ModelRegistry.DatanetVersionNotFound.selector, openDatanet, 5));
        models.recordTrainingRun(modelId, used, MANIFEST);
    }

    // --------------------------------------------------------- publishVersion

    function test_publishVersion_fromOwnRun() public {
        (uint256 modelId,) = _register(bob, _used1(openDatanet, 1));
        ModelRegistry.DatanetVersion[] memory used = _used1(openDatanet, 2);
        vm.prank(bob);
        uint256 runId = models.recordTrainingRun(modelId, used, keccak256("m2"));

        vm.expectEmit(true, true, true, true, address(models));
        emit ModelRegistry.ModelVersionPublished(modelId, 2, runId, keccak256("adapter-2"), "file://adapter-2");
        vm.prank(bob);
        assertEq(models.publishVersion(modelId, runId, keccak256("adapter-2"), "file://adapter-2"), 2);
        assertEq(uint256(models.getModel(modelId).versionCount), 2);

        // An earlier run of the same model may also be republished.
        vm.expectEmit(true, true, true, true, address(models));
        emit ModelRegistry.ModelVersionPublished(modelId, 3, 1, keccak256("adapter-3"), "u3");
        vm.prank(bob);
        assertEq(models.publishVersion(modelId, 1, keccak256("adapter-3"), "u3"), 3);
    }

    function test_publishVersion_revertsForRunOfAnotherModel() public {
        (uint256 bobModel,) = _register(bob, _used1(openDatanet, 1));
        (, uint256 aliceRun) = _register(alice, _used1(openDatanet, 1));
        vm.prank(bob);
        vm.expectRevert(abi.encodeWithSelector(ModelRegistry.RunNotOfModel.selector, aliceRun, bobModel));
        models.publishVersion(bobModel, aliceRun, ADAPTER, "u");
    }

    function test_publishVersion_revertsForUnknownRun() public {
        (uint256 modelId,) = _register(bob, _used1(openDatanet, 1));
        vm.prank(bob);
        vm.expectRevert(abi.encodeWithSelector(ModelRegistry.RunNotOfModel.selector, 42, modelId));
        models.publishVersion(modelId, 42, ADAPTER, "u");
    }

    function test_publishVersion_revertsOnZeroAdapterHash() public {
        (uint256 modelId, uint256 runId) = _register(bob, _used1(openDatanet, 1));
        vm.prank(bob);
        vm.expectRevert(abi.encodeWithSelector(ModelRegistry.EmptyAdapterHash.selector));
        models.publishVersion(modelId, runId, bytes32(0), "u");
        assertEq(uint256(models.getModel(modelId).versionCount), 1);
    }

    function test_publishVersion_revertsForNonOwner() public {
        (uint256 modelId, uint256 runId) = _register(bob, _used1(openDatanet, 1));
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(ModelRegistry.NotModelOwner.selector, modelId, alice));
        models.publishVersion(modelId, runId, ADAPTER, "u");
    }

    function test_publishVersion_revertsForUnknownModel() public {
        vm.prank(bob);
        vm.expectRevert(abi.encodeWithSelector(ModelRegistry.ModelNotFound.selector, 1));
        models.publishVersion(1, 1, ADAPTER, "u");
    }

    // -------------------------------------------------------------- setPrices

    function test_setPrices_updatesBillingInfo() public {
        (uint256 modelId,) = _register(bob, _used1(openDatanet, 1));
        vm.expectEmit(true, true, true, true, address(models));
        emit ModelRegistry.ModelPricesSet(modelId, 11, 0);
        vm.prank(bob);
        models.setPrices(modelId, 11, 0);
        (address owner_, uint256 priceIn, uint256 priceOut, bool active) = models.billingInfo(modelId);
        assertEq(owner_, bob);
        assertEq(priceIn, 11);
        assertEq(priceOut, 0);
        assertTrue(active);
    }

    function test_setPrices_acceptsMaxUint96() public {
        (uint256 modelId,) = _register(bob, _used1(openDatanet, 1));
        vm.prank(bob);
        models.setPrices(modelId, type(uint96).max, type(uint96).max - 1);
        ModelRegistry.Model memory m = models.getModel(modelId);
        assertEq(uint256(m.priceIn), type(uint96).max);
        assertEq(uint256(m.priceOut), type(uint96).max - 1);
    }

    function test_setPrices_revertsForNonOwner() public {
        (uint256 modelId,) = _register(bob, _used1(openDatanet, 1));
        vm.prank(gov);
        vm.expectRevert(abi.encodeWithSelector(ModelRegistry.NotModelOwner.selector, modelId, gov));
        models.setPrices(modelId, 1, 1);
    }

    function test_setPrices_revertsForUnknownModel() public {
        vm.prank(bob);
        vm.expectRevert(abi.encodeWithSelector(ModelRegistry.ModelNotFound.selector, 2));
        models.setPrices(2, 1, 1);
    }

    // -------------------------------------------------------------- setActive

    function test_setActive_stopsAndResumes() public {
        (uint256 modelId,) = _register(bob, _used1(openDatanet, 1));
        vm.expectEmit(true, true, true, true, address(models));
        emit ModelRegistry.ModelActiveSet(modelId, false);
        vm.prank(bob);
        models.setActive(modelId, false);
        (,,, bool active) = models.billingInfo(modelId);
        assertFalse(active);
        assertFalse(models.getModel(modelId).active);

        vm.expectEmit(true, true, true, true, address(models));
        emit ModelRegistry.ModelActiveSet(modelId, true);
        vm.prank(bob);
        models.setActive(modelId, true);
        (,,, active) = models.billingInfo(modelId);
        assertTrue(active);
    }

    function test_setActive_revertsForNonOwner() public {
        (uint256 modelId,) = _register(bob, _used1(openDatanet, 1));
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(ModelRegistry.NotModelOwner.selector, modelId, stranger));
        models.setActive(modelId, false);
    }

    function test_setActive_revertsForUnknownModel() public {
        vm.prank(bob);
        vm.expectRevert(abi.encodeWithSelector(ModelRegistry.ModelNotFound.selector, 3));
        models.setActive(3, false);
    }

    // ---------------------------------------------------------- transferModel

    function test_transferModel_movesOwnershipAndFeeShare() public {
        (uint256 modelId,) = _register(bob, _used1(openDatanet, 1));
        vm.expectEmit(true, true, true, true, address(models));
        emit ModelRegistry.ModelOwnershipTransferred(modelId, bob, alice);
        vm.prank(bob);
        models.transferModel(modelId, alice);
        (address owner_,,,) = models.billingInfo(modelId);
        assertEq(owner_, alice);

        vm.prank(bob);
        vm.expectRevert(abi.encodeWithSelector(ModelRegistry.NotModelOwner.selector, modelId, bob));
        models.setPrices(modelId, 1, 1);
        vm.prank(alice);
        models.setPrices(modelId, 1, 1);
    }

    function test_transferModel_revertsOnZeroAddress() public {
        (uint256 modelId,) = _register(bob, _used1(openDatanet, 1));
        vm.prank(bob);
        vm.expectRevert(abi.encodeWithSelector(ModelRegistry.ZeroAddress.selector));
        models.transferModel(modelId, address(0));
    }

    function test_transferModel_revertsForNonOwner() public {
        (uint256 modelId,) = _register(bob, _used1(openDatanet, 1));
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(ModelRegistry.NotModelOwner.selector, modelId, alice));
        models.transferModel(modelId, alice);
    }

    function test_transferModel_revertsForUnknownModel() public {
        vm.prank(bob);
        vm.expectRevert(abi.encodeWithSelector(ModelRegistry.ModelNotFound.selector, 4));
        models.transferModel(4, alice);
    }

    // ------------------------------------------------------------------ views

    function test_billingInfo_returnsRegisteredValues() public {
        (uint256 modelId,) = _register(bob, _used1(openDatanet, 1));
        (address owner_, uint256 priceIn, uint256 priceOut, bool active) = models.billingInfo(modelId);
        assertEq(owner_, bob);
        assertEq(priceIn, 3 ether);
        assertEq(priceOut, 7 ether);
        assertTrue(active);
    }

    function test_billingInfo_unknownModelIsZeroAndInactive() public {
        (address owner_, uint256 priceIn, uint256 priceOut, bool active) = models.billingInfo(77);
        assertEq(owner_, address(0));
        assertEq(priceIn, 0);
        assertEq(priceOut, 0);
        assertFalse(active);
    }

    function test_getModel_revertsForUnknownId() public {
        vm.expectRevert(abi.encodeWithSelector(ModelRegistry.ModelNotFound.selector, 5));
        models.getModel(5);
        vm.expectRevert(abi.encodeWithSelector(ModelRegistry.ModelNotFound.selector, 0));
        models.getModel(0);
    }

    // ------------------------------------------------------------- governance

    function test_setTreasury_byGovernanceRedirectsFees() public {
        address newTreasury = address(0x7E2);
        vm.expectEmit(true, true, true, true, address(models));
        emit ModelRegistry.TreasurySet(newTreasury);
        vm.prank(gov);
        models.setTreasury(newTreasury);
        assertEq(models.treasury(), newTreasury);

        vm.prank(gov);
        models.setRegistrationFee(1 ether);
        _fund(bob, 1 ether);
        vm.prank(bob);
        token.approve(address(models), 1 ether);
        _register(bob, _used1(openDatanet, 1));
        assertEq(token.balanceOf(newTreasury), 1 ether);
    }

    function test_setTreasury_revertsOnZeroAddress() public {
        vm.prank(gov);
        vm.expectRevert(abi.encodeWithSelector(ModelRegistry.ZeroAddress.selector));
        models.setTreasury(address(0));
    }

    function test_setTreasury_revertsForNonOwner() public {
        vm.prank(bob);
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, bob));
        models.setTreasury(bob);
        assertEq(models.treasury(), treasury);
    }

    function test_setRegistrationFee_byGovernance() public {
        vm.expectEmit(true, true, true, true, address(models));
        emit ModelRegistry.RegistrationFeeSet(9 ether);
        vm.prank(gov);
        models.setRegistrationFee(9 ether);
        assertEq(models.registrationFee(), 9 ether);
    }

    function test_setRegistrationFee_revertsForNonOwner() public {
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, alice));
        models.setRegistrationFee(1);
        assertEq(models.registrationFee(), 0);
    }

    function test_transferOwnership_revertsForNonOwner() public {
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, alice));
        models.transferOwnership(alice);
        assertEq(models.owner(), gov);
    }
}
