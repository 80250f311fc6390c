// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Fixture} from "./utils/Fixture.sol";
import {MerkleHelper} from "./utils/MerkleHelper.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";

contract FixtureTest is Fixture {
    function test_setUp_wiresEveryRole() public view {
        assertEq(settlement.router(), address(router));
        assertEq(settlement.guardian(), guardian);
        assertTrue(settlement.isAttributor(attributor));
        assertTrue(router.isOperator(operator));
        assertEq(settlement.threshold(), 2);
        assertTrue(signerAddrs[0] < signerAddrs[1] && signerAddrs[1] < signerAddrs[2], "signers sorted");
    }

    function test_merkleHelper_proofsVerify() public pure {
        bytes32[] memory leaves = new bytes32[](5);
        for (uint256 i = 0; i < 5; i++) {
            leaves[i] = MerkleHelper.leaf(address(uint160(i + 1)), i * 10);
        }
        bytes32 root = MerkleHelper.root(leaves);
        for (uint256 i = 0; i < 5; i++) {
            assertTrue(MerkleProof.verify(MerkleHelper.proof(leaves, i), root, leaves[i]), "proof verifies");
        }
    }
}
