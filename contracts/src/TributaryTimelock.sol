// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";

/// @title The timelock that owns every Tributary parameter.
/// @notice OpenZeppelin's TimelockController unchanged; it has its own name here so that the
/// deployment and the generated ABIs include it. It also serves as the treasury on the devnet.
contract TributaryTimelock is TimelockController {
    constructor(uint256 minDelay, address[] memory proposers, address[] memory executors, address admin)
        TimelockController(minDelay, proposers, executors, admin)
    {}
}
