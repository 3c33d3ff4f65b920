export {
  type FakeMetricDescriptor,
  type FakeMonitoring,
  type FakeMonitoringFault,
  type FakeMonitoringOptions,
  type FakeMonitoringPoint,
  type FakeMonitoringRequest,
  type FakeMonitoringSeries,
  startFakeMonitoring,
} from './fake-monitoring-server';
export { readTerraformMetricDescriptors } from './terraform-descriptors';
