"""A Modbus/TCP device (pymodbus) for the collector tests: ``python modbus_server.py IP PORT``."""

from __future__ import annotations

import asyncio
import sys

from pymodbus import ModbusDeviceIdentification
from pymodbus.datastore import ModbusDeviceContext, ModbusSequentialDataBlock, ModbusServerContext
from pymodbus.server import StartAsyncTcpServer

VENDOR, PRODUCT, REVISION = "Shoal Automation", "PLC-7", "v2.9"


async def serve(ip: str, port: int) -> None:
    block = ModbusSequentialDataBlock(1, [0] * 16)
    context = ModbusServerContext(devices=ModbusDeviceContext(di=block, co=block, hr=block, ir=block), single=True)
    identity = ModbusDeviceIdentification(
        info_name={"VendorName": VENDOR, "ProductCode": PRODUCT, "MajorMinorRevision": REVISION}
    )
    await StartAsyncTcpServer(context=context, identity=identity, address=(ip, port))


if __name__ == "__main__":
    asyncio.run(serve(sys.argv[1], int(sys.argv[2])))
