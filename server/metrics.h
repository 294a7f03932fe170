// Prometheus metrics of a bnmlp server (prometheus-cpp), served on
// --metrics_address by a pull exposer:
//   bnmlp_rpc_requests_total{method, code}       every finished call
//   bnmlp_rpc_duration_seconds{method}            histogram of call latency
//   bnmlp_predict_rows_total{model}               rows predicted
//   bnmlp_training_samples_per_second{model}      at the last epoch end
//   bnmlp_training_loss{model}                    training loss, last epoch
//   bnmlp_training_validation_accuracy{model}     when validating
//   bnmlp_trainings_total{model, outcome}          finished Train runs
//   bnmlp_models                                  models held now
//   bnmlp_datasets                                uploaded datasets held now
//   bnmlp_memory_bytes{kind}                      reserved from the budget
//   bnmlp_memory_limit_bytes                      --max_memory_bytes
//   bnmlp_build_info{version, git}                1
// Series labelled by model are removed when the model is deleted, so a
// server that sees many short-lived models does not grow without bound.
#ifndef BNMLP_SERVER_METRICS_H_
#define BNMLP_SERVER_METRICS_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/annotated_mutex.h"
#include "prometheus/counter.h"
#include "prometheus/exposer.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"
#include "server/rpc_call.h"

namespace bnmlp {

// The figures of one epoch end (or of a finished run).
struct TrainingFigures {
  double samples_per_second = 0;
  double loss = 0;
  bool has_validation = false;
  double validation_accuracy = 0;
};

// What a scrape reads from the server at that moment, so these gauges can
// never drift from the registries and the memory budget.
struct ServerGauges {
  int64_t models = 0;
  int64_t datasets = 0;
  int64_t memory_limit_bytes = 0;
  // (kind, bytes reserved now): server, models, datasets, training, serving.
  std::vector<std::pair<std::string, int64_t>> memory_bytes_by_kind;
};

// Thread-safe: every method may be called from any call's thread. Holds
// its own mutex only to find or create a model's series (a hash lookup).
class ServerMetrics : public RpcObserver {
 public:
  // `read_gauges` is called at each scrape, from the scraping thread.
  explicit ServerMetrics(std::function<ServerGauges()> read_gauges);
  ~ServerMetrics() override;

  void OnFinished(const RpcOutcome& outcome) override;
  void AddPredictRows(absl::string_view model, int64_t rows);
  void SetEpochFigures(absl::string_view model, const TrainingFigures& figures);
  // `outcome`: "ok", "cancelled", "failed".
  void CountTraining(absl::string_view model, absl::string_view outcome);
  // Drops every series labelled with `model`.
  void ForgetModel(absl::string_view model);

  // The metrics in Prometheus's text format, as a scrape sees them.
  std::string Scrape() const;

 private:
  struct ModelSeries;
  ModelSeries& SeriesOf(absl::string_view model)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // One method's and status code's series (looked up in the families once:
  // prometheus-cpp's Family::Add builds and hashes a label map per call).
  struct CallSeries {
    prometheus::Counter* requests = nullptr;
    prometheus::Histogram* duration = nullptr;
  };
  CallSeries SeriesOf(absl::string_view method, absl::StatusCode code)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  friend absl::StatusOr<std::unique_ptr<prometheus::Exposer>> ServeMetrics(
      const std::string& address, const ServerMetrics& metrics);

  const prometheus::Histogram::BucketBoundaries latency_buckets_;
  const std::shared_ptr<prometheus::Registry> registry_;
  const std::shared_ptr<prometheus::Collectable> gauges_collector_;
  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Family<prometheus::Histogram>& durations_;
  prometheus::Family<prometheus::Counter>& predict_rows_;
  prometheus::Family<prometheus::Gauge>& samples_per_second_;
  prometheus::Family<prometheus::Gauge>& loss_;
  prometheus::Family<prometheus::Gauge>& validation_accuracy_;
  prometheus::Family<prometheus::Counter>& trainings_;

  mutable AnnotatedMutex mu_;  // held for a map lookup or insertion
  absl::flat_hash_map<std::string, std::unique_ptr<ModelSeries>> models_
      ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::pair<std::string, absl::StatusCode>, CallSeries>
      calls_ ABSL_GUARDED_BY(mu_);
};

// Serves `metrics` at http://`address`/metrics until destroyed; `metrics`
// must outlive the exposer.
// UNAVAILABLE naming the address if it cannot be bound.
absl::StatusOr<std::unique_ptr<prometheus::Exposer>> ServeMetrics(
    const std::string& address, const ServerMetrics& metrics);

}  // namespace bnmlp

#endif  // BNMLP_SERVER_METRICS_H_
