// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";
import {ERC20Votes} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Votes.sol";
import {Nonces} from "@openzeppelin/contracts/utils/Nonces.sol";

/// @title OPEN, the token every fee, stake, reward and vote of Tributary is counted in.
/// @notice A fixed supply minted once at deployment: there is no mint function, so no one can
/// dilute contributors' earnings. Votes are checkpointed by block number for the Governor.
/// Every balance change emits {Transfer}; delegation emits {DelegateChanged} and {DelegateVotesChanged}.
contract OpenToken is ERC20, ERC20Permit, ERC20Votes {
    /// @param holder receives the whole supply (the deployer, who then funds the treasury and demo accounts)
    /// @param supply the fixed total supply, in wei
    constructor(address holder, uint256 supply) ERC20("Open", "OPEN") ERC20Permit("Open") {
        _mint(holder, supply);
    }

    function _update(address from, address to, uint256 value) internal override(ERC20, ERC20Votes) {
        super._update(from, to, value);
    }

    /// @inheritdoc ERC20Permit
    function nonces(address owner) public view override(ERC20Permit, Nonces) returns (uint256) {
        return super.nonces(owner);
    }
}
