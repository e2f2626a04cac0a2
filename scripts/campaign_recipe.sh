# Sourced by scripts/campaign_stage.sh (CPU stages) and scripts/gpu_stage.sh (GPU stages): the
# campaign's training recipe since stage 12, one copy, so both kinds of stage train the same model
# the same way. Each script adds its own checkpoint/sample intervals, threads and device.
CAMPAIGN_RECIPE=(--preset demo128 --perceptual 1 --style-stats 2 --tcp-every 4 --reuse-fakes)

newest_state() {  # the newest complete training state in run folder $1 (empty when none)
    ls "$1/checkpoints"/state-*.safetensors 2>/dev/null | sort | tail -n 1
}
