// SPDX-License-Identifier: Apache-2.0
pragma solidity >=0.8.0 <0.9.0;

/// @notice The base that forge-std 1.1.2 (the npm build) expects at `ds-test/test.sol`; npm has no
/// ds-test package, so Tributary keeps its own. Failed assertions revert with a message naming
/// both values, which forge reports as the test's failure reason.
contract DSTest {
    event log(string);
    event logs(bytes);
    event log_address(address);
    event log_bytes32(bytes32);
    event log_int(int256);
    event log_uint(uint256);
    event log_bytes(bytes);
    event log_string(string);
    event log_named_address(string key, address val);
    event log_named_bytes32(string key, bytes32 val);
    event log_named_decimal_int(string key, int256 val, uint256 decimals);
    event log_named_decimal_uint(string key, uint256 val, uint256 decimals);
    event log_named_int(string key, int256 val);
    event log_named_uint(string key, uint256 val);
    event log_named_bytes(string key, bytes val);
    event log_named_string(string key, string val);

    bool public IS_TEST = true;
    bool private _failed;

    address constant HEVM_ADDRESS = address(bytes20(uint160(uint256(keccak256("hevm cheat code")))));

    function failed() public view returns (bool) {
        return _failed;
    }

    function fail() internal virtual {
        _failed = true;
        revert("assertion failed");
    }

    function _fail(string memory what) private pure {
        revert(what);
    }

    function _u(uint256 v) private pure returns (string memory) {
        if (v == 0) return "0";
        uint256 len;
        for (uint256 t = v; t != 0; t /= 10) len++;
        bytes memory b = new bytes(len);
        for (; v != 0; v /= 10) b[--len] = bytes1(uint8(48 + (v % 10)));
        return string(b);
    }

    function _i(int256 v) private pure returns (string memory) {
        if (v >= 0) return _u(uint256(v));
        return string.concat("-", _u(v == type(int256).min ? uint256(type(int256).max) + 1 : uint256(-v)));
    }

    function _h(bytes memory data) private pure returns (string memory) {
        bytes memory hexchars = "0123456789abcdef";
        bytes memory out = new bytes(2 + data.length * 2);
        out[0] = "0";
        out[1] = "x";
        for (uint256 k = 0; k < data.length; k++) {
            out[2 + 2 * k] = hexchars[uint8(data[k]) >> 4];
            out[3 + 2 * k] = hexchars[uint8(data[k]) & 0x0f];
        }
        return string(out);
    }

    function _msg(string memory err, string memory what) private pure returns (string memory) {
        return bytes(err).length == 0 ? what : string.concat(err, ": ", what);
    }

    function assertTrue(bool c) internal pure {
        if (!c) _fail("assertTrue: got false");
    }

    function assertTrue(bool c, string memory err) internal pure {
        if (!c) _fail(_msg(err, "assertTrue: got false"));
    }

    function assertEq(address a, address b) internal pure {
        assertEq(a, b, "");
    }

    function assertEq(address a, address b, string memory err) internal pure {
        if (a != b) _fail(_msg(err, string.concat("address ", _h(abi.encodePacked(a)), " != ", _h(abi.encodePacked(b)))));
    }

    function assertEq(bytes32 a, bytes32 b) internal pure {
        assertEq(a, b, "");
    }

    function assertEq(bytes32 a, bytes32 b, string memory err) internal pure {
        if (a != b) _fail(_msg(err, string.concat("bytes32 ", _h(abi.encodePacked(a)), " != ", _h(abi.encodePacked(b)))));
    }

    function assertEq(int256 a, int256 b) internal pure {
        assertEq(a, b, "");
    }

    function assertEq(int256 a, int256 b, string memory err) internal pure {
        if (a != b) _fail(_msg(err, string.concat("int ", _i(a), " != ", _i(b))));
    }

    function assertEq(uint256 a, uint256 b) internal pure {
        assertEq(a, b, "");
    }

    function assertEq(uint256 a, uint256 b, string memory err) internal pure {
        if (a != b) _fail(_msg(err, string.concat("uint ", _u(a), " != ", _u(b))));
    }

    function assertEq(string memory a, string memory b) internal pure {
        assertEq(a, b, "");
    }

    function assertEq(string memory a, string memory b, string memory err) internal pure {
        if (keccak256(bytes(a)) != keccak256(bytes(b))) _fail(_msg(err, string.concat("string '", a, "' != '", b, "'")));
    }

    function assertEq0(bytes memory a, bytes memory b) internal pure {
        assertEq0(a, b, "");
    }

    function assertEq0(bytes memory a, bytes memory b, string memory err) internal pure {
        if (keccak256(a) != keccak256(b)) _fail(_msg(err, string.concat("bytes ", _h(a), " != ", _h(b))));
    }

    function assertGt(uint256 a, uint256 b) internal pure {
        if (a <= b) _fail(string.concat("assertGt: ", _u(a), " <= ", _u(b)));
    }

    function assertGt(uint256 a, uint256 b, string memory err) internal pure {
        if (a <= b) _fail(_msg(err, string.concat("assertGt: ", _u(a), " <= ", _u(b))));
    }

    function assertGe(uint256 a, uint256 b) internal pure {
        if (a < b) _fail(string.concat("assertGe: ", _u(a), " < ", _u(b)));
    }

    function assertGe(uint256 a, uint256 b, string memory err) internal pure {
        if (a < b) _fail(_msg(err, string.concat("assertGe: ", _u(a), " < ", _u(b))));
    }

    function assertLt(uint256 a, uint256 b) internal pure {
        if (a >= b) _fail(string.concat("assertLt: ", _u(a), " >= ", _u(b)));
    }

    function assertLt(uint256 a, uint256 b, string memory err) internal pure {
        if (a >= b) _fail(_msg(err, string.concat("assertLt: ", _u(a), " >= ", _u(b))));
    }

    function assertLe(uint256 a, uint256 b) internal pure {
        if (a > b) _fail(string.concat("assertLe: ", _u(a), " > ", _u(b)));
    }

    function assertLe(uint256 a, uint256 b, string memory err) internal pure {
        if (a > b) _fail(_msg(err, string.concat("assertLe: ", _u(a), " > ", _u(b))));
    }
}
