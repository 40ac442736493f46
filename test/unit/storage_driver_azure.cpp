// Until the Azure driver exists: its tests are skipped. Replaced by the driver's own maker.
#include "storage_drivers.h"

namespace backrest::test {

DriverStorage makeAzureTestStorage(const std::string&) {
    return {nullptr, "the Azure driver is not built yet"};
}

}  // namespace backrest::test
